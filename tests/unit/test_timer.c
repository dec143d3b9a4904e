/* timer: ordering, re-arming, removal and expiry of deadline lists. */
#include "timer.h"

#include <stdio.h>

#include "check.h"

int main(void)
{
	struct timer_list l;
	struct timer_node n[4];

	timer_list_init(&l);
	for (int i = 0; i < 4; i++)
		timer_node_init(&n[i]);
	CHECK(timer_pop_expired(&l, 100) == NULL);

	timer_add(&l, &n[0], 10);
	timer_add(&l, &n[1], 11);
	timer_add(&l, &n[2], 12);
	CHECK(timer_linked(&n[1]));
	CHECK(timer_pop_expired(&l, 9) == NULL);
	CHECK(timer_pop_expired(&l, 10) == &n[0]);
	CHECK(!timer_linked(&n[0]));
	CHECK(timer_pop_expired(&l, 10) == NULL);

	/* Re-arming moves a node to the tail. */
	timer_add(&l, &n[1], 20);
	CHECK(timer_pop_expired(&l, 12) == &n[2]);
	CHECK(timer_pop_expired(&l, 19) == NULL);

	/* Removal of a middle node keeps the list intact. */
	timer_add(&l, &n[2], 21);
	timer_add(&l, &n[3], 22);
	timer_del(&n[2]);
	CHECK(!timer_linked(&n[2]));
	timer_del(&n[2]); /* idempotent */
	CHECK(timer_pop_expired(&l, 100) == &n[1]);
	CHECK(timer_pop_expired(&l, 100) == &n[3]);
	CHECK(timer_pop_expired(&l, 100) == NULL);

	/* Moving between lists. */
	struct timer_list m;
	timer_list_init(&m);
	timer_add(&l, &n[0], 5);
	timer_add(&m, &n[0], 6);
	CHECK(timer_pop_expired(&l, 100) == NULL);
	CHECK(timer_pop_expired(&m, 100) == &n[0]);

	if (failures)
		printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
