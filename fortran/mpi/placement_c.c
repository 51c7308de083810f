/* placement_c.c -- where an MPI rank may run: the CPUs online on its node and
 * the CPUs of its affinity mask (what `mpirun --bind-to` left it), for
 * bench_mpi_teams. Linux (sysconf, sched_getaffinity). */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* CPUs online on this node (0 when unknown). */
int ftb_online_cpus(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 0;
}

/* The affinity mask of the calling process as a CPU list ("0-1", "3",
 * "0,2-3") in buffer (NUL-terminated, truncated to length - 1 characters);
 * returns the number of CPUs in it, 0 when the mask cannot be read. */
int ftb_allowed_cpus(char *buffer, int length) {
  cpu_set_t set;
  int used = 0, count = 0, cpu, start = -1;
  if (length < 1) return 0;
  buffer[0] = '\0';
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  for (cpu = 0; cpu <= CPU_SETSIZE; ++cpu) {
    int in = cpu < CPU_SETSIZE && CPU_ISSET(cpu, &set);
    if (in) {
      ++count;
      if (start < 0) start = cpu;
    } else if (start >= 0) {
      int n;
      if (start == cpu - 1)
        n = snprintf(buffer + used, (size_t)(length - used), "%s%d", used ? "," : "", start);
      else
        n = snprintf(buffer + used, (size_t)(length - used), "%s%d-%d", used ? "," : "", start, cpu - 1);
      if (n < 0 || n >= length - used) break; /* truncated: keep what fits */
      used += n;
      start = -1;
    }
  }
  return count;
}
