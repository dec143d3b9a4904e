/* timer: deadline lists driven by one periodic timeout per ring.
 *
 * Every list holds nodes of one kind (header, keep-alive, send, linger) that
 * all use the same duration, so appending at the tail keeps each list sorted
 * by deadline: adding, removing and expiring are O(1), with no heap. */
#ifndef RS_TIMER_H
#define RS_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct timer_node {
	struct timer_node *prev, *next;
	uint64_t deadline; /* milliseconds on the worker's monotonic clock */
};

struct timer_list {
	struct timer_node head; /* sentinel */
};

static inline void timer_list_init(struct timer_list *l)
{
	l->head.prev = l->head.next = &l->head;
}

static inline void timer_node_init(struct timer_node *n)
{
	n->prev = n->next = n;
}

static inline bool timer_linked(const struct timer_node *n)
{
	return n->next != n;
}

/* Unlink n if it is on a list. */
void timer_del(struct timer_node *n);

/* (Re)arm n at `deadline` on l, removing it from any list first. Deadlines
 * added to one list must not decrease. */
void timer_add(struct timer_list *l, struct timer_node *n, uint64_t deadline);

/* The first node of l whose deadline is <= now, unlinked; NULL if none. */
struct timer_node *timer_pop_expired(struct timer_list *l, uint64_t now);

#endif
