/** The Markdown table of CPU-aware defaults, generated from `defaultsFor`. */
export function configTable(): string;
/** `readme` with the text between the config-table markers replaced by `table`. */
export function replaceTable(readme: string, table: string): string;
