/* clock.c - wall and monotonic time, and how ffrun writes it (clock.h). */
#include "clock.h"

#include <stdio.h>
#include <time.h>

double ff_time_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double ff_time_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void ff_time_stamp(char out[16], double t)
{
	time_t s = (time_t)t;
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(out, 16, "%Y%m%d-%H%M%S", &tm);
}

void ff_time_iso(char out[32], double t)
{
	time_t s = (time_t)t;
	struct tm tm;
	char b[24];
	gmtime_r(&s, &tm);
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%03dZ", b, (int)((t - (double)s) * 1000) % 1000);
}
