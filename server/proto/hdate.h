/* hdate: HTTP dates. Out: IMF-fixdate only. In: all three RFC 9110 formats. */
#ifndef RS_HDATE_H
#define RS_HDATE_H

#include <stddef.h>
#include <time.h>

#define HDATE_LEN 29 /* "Sun, 06 Nov 1994 08:49:37 GMT" */

/* Format t (UTC) as IMF-fixdate into out (HDATE_LEN chars + NUL).
 * Locale- and timezone-independent. */
void hdate_format(time_t t, char out[HDATE_LEN + 1]);

/* Parse an IMF-fixdate, RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") or
 * asctime ("Sun Nov  6 08:49:37 1994") date. 0 and *out set, or -EINVAL. */
int hdate_parse(const char *s, size_t len, time_t *out);

#endif
