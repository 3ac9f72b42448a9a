/* Probe (not part of `pnpm bench`): two of atomics-cost.mjs's loops (compare-exchange, and plain
 * store + load) in C, to show what the hardware's locked compare-exchange costs without a
 * JavaScript engine in between.
 *
 *   gcc -O2 bench/probes/cas-floor.c -o /tmp/cas-floor && /tmp/cas-floor
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static int32_t words[1024];

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(void) {
  const long n = 100000000;
  volatile long sink = 0;
  for (int run = 0; run < 3; run++) {
    double start = now_ns();
    for (long i = 0; i < n; i++) {
      int k = (int)((i & 63) << 4);
      int expected = __atomic_load_n(&words[k], __ATOMIC_RELAXED);
      __atomic_compare_exchange_n(&words[k], &expected, (int)i, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
      sink += expected;
    }
    double cas = (now_ns() - start) / n;
    start = now_ns();
    for (long i = 0; i < n; i++) {
      int k = (int)((i & 63) << 4);
      __atomic_store_n(&words[k], (int)i, __ATOMIC_RELAXED);
      sink += __atomic_load_n(&words[k], __ATOMIC_RELAXED);
    }
    double plain = (now_ns() - start) / n;
    printf("compare-exchange %.2f ns, plain store + load %.2f ns\n", cas, plain);
  }
  return 0;
}
