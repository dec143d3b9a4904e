/* check: the one assertion of the C unit tests. A failed CHECK prints
 * where and what, counts, and lets the test go on; main() returns
 * failures ? 1 : 0 (meson: 0 pass, 1 fail, 77 skip). */
#ifndef RS_CHECK_H
#define RS_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, \
				__LINE__, #cond);                            \
			failures++;                                          \
		}                                                            \
	} while (0)

#endif
