#include "timer.h"

#include <stddef.h>

void timer_del(struct timer_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	timer_node_init(n);
}

void timer_add(struct timer_list *l, struct timer_node *n, uint64_t deadline)
{
	if (timer_linked(n))
		timer_del(n);
	n->deadline = deadline;
	n->prev = l->head.prev;
	n->next = &l->head;
	l->head.prev->next = n;
	l->head.prev = n;
}

struct timer_node *timer_pop_expired(struct timer_list *l, uint64_t now)
{
	struct timer_node *n = l->head.next;

	if (n == &l->head || n->deadline > now)
		return NULL;
	timer_del(n);
	return n;
}
