/* direct: large cold files read with O_DIRECT into aligned registered
 * buffers, several reads in flight, sent in order as they complete.
 *
 * A file of at least --direct-threshold bytes whose range is mostly not in
 * the page cache (resid.c: cachestat(2), or mincore(2) before Linux 6.5)
 * is read around the page cache: the disk runs at its full rate and the
 * cache keeps the hot set instead of filling with a one-off download.
 * Anything else (warm file, O_DIRECT refused as on tmpfs, residency
 * unknown, no free transfer) takes the buffered paths. */
#ifndef RS_DIRECT_H
#define RS_DIRECT_H

#include <stdbool.h>
#include <stdint.h>

#define DIRECT_MAX_DEPTH 16

struct worker;
struct conn;

enum direct_slot_state { DS_FREE = 0, DS_READING, DS_READY, DS_SENDING };

struct direct_slot {
	int32_t buf;      /* index in the worker's direct buffer pool */
	uint32_t len;     /* bytes read */
	uint64_t off;     /* file offset of the read (aligned) */
	uint8_t state;
};

/* Per-transfer state; lives in the response scratch. */
struct direct_xfer {
	int fd;               /* ordinary O_DIRECT descriptor, closed at the end */
	uint32_t align;       /* file offset alignment (STATX_DIOALIGN) */
	uint64_t next_read;   /* aligned offset of the next read */
	uint64_t read_end;    /* reads stop here */
	uint8_t depth;
	uint8_t head;         /* slot holding the next bytes to send */
	bool head_sent;       /* the response head has gone out */
	bool sending;
	uint32_t send_len;    /* bytes of the send in flight */
	struct direct_slot slot[DIRECT_MAX_DEPTH];
};

/* Before the workers start: false behaves as a kernel without
 * STATX_DIOALIGN (RINGSERVE_DISABLE=dioalign), whose O_DIRECT offsets are
 * then aligned to the page size. */
void direct_init(bool dioalign);
bool direct_dioalign(void);

/* Start an O_DIRECT transfer of [c->off, c->end) after the head in the
 * response buffer, when the file qualifies (forced: whatever its size and
 * residency, as long as O_DIRECT works); false to use another path. */
bool direct_start(struct worker *w, struct conn *c, bool forced);

/* A completion of OP_DHEAD, OP_DSEND or OP_DREAD + slot. */
void direct_complete(struct worker *w, struct conn *c, unsigned op, int res);

/* Send what is read and due (the pacing timeout expired). */
void direct_pump(struct worker *w, struct conn *c);

/* Close the descriptor and return the buffers (after the last completion). */
void direct_release(struct worker *w, struct conn *c);

#endif
