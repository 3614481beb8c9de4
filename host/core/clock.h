/* clock.h - time as ffrun reads and writes it. */
#ifndef FF_CLOCK_H
#define FF_CLOCK_H

/* Seconds since the epoch (CLOCK_REALTIME) and since an arbitrary start
 * (CLOCK_MONOTONIC: durations and deadlines, immune to clock steps). */
double ff_time_now(void);
double ff_time_mono(void);

/* UTC timestamps of t: "YYYYMMDD-HHMMSS" (backup and evidence folder
 * names) and ISO 8601 with milliseconds (events, logs, summaries). */
void ff_time_stamp(char out[16], double t);
void ff_time_iso(char out[32], double t);

#endif
