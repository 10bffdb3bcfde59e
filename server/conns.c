/* Open connections and their deadlines: every connection in one list
 * ordered by when its phase began, its client address counted, and a
 * reaper thread that ends the ones past their deadline or half-closed. */
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server/internal.h"

/* At most this many closes a round: closing thousands of connections at
 * once would hold the event threads up for everyone else. */
#define REAP_BATCH 250
#define REAP_EVERY_MS 50
/* Half-closed connections looked at per reaper round. */
#define HUP_BATCH 256

uint64_t cf_conns_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void track_unlink(struct cf_server *s, struct track *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		s->head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		s->tail = t->prev;
	t->prev = t->next = NULL;
}

static void track_append(struct cf_server *s, struct track *t)
{
	t->prev = s->tail;
	t->next = NULL;
	if (s->tail)
		s->tail->next = t;
	else
		s->head = t;
	s->tail = t;
}

/* Ends connection T: shutdown(2) makes libmicrohttpd's next read see the
 * end, and it closes the connection its own way (freeing everything, then
 * calling cf_conns_on_connection, which unlinks T before the descriptor
 * is closed: T->fd is always still ours here).  Under s->clock. */
static void track_shut(struct cf_server *s, struct track *t, int why)
{
	if (t->shut)
		return;
	t->shut = true;
	shutdown(t->fd, SHUT_RDWR);
	s->nshut++;
	if (t->peer)
		t->peer->n--;
	s->closed[why]++;
}

/* ADDR's key: the IPv4 address (also when v4-mapped in IPv6), else the
 * IPv6 one; false for other families. */
static bool peer_key(const struct sockaddr *addr, unsigned char key[16],
		     size_t *len)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
						  0xff, 0xff };
	const unsigned char *b;

	if (!addr)
		return false;
	if (addr->sa_family == AF_INET) {
		memcpy(key, &((const struct sockaddr_in *)(const void *)addr)->
		       sin_addr, 4);
		*len = 4;
		return true;
	}
	if (addr->sa_family != AF_INET6)
		return false;
	b = ((const struct sockaddr_in6 *)(const void *)addr)->sin6_addr.s6_addr;
	if (!memcmp(b, mapped, sizeof(mapped))) {
		memcpy(key, b + 12, 4);
		*len = 4;
	} else {
		memcpy(key, b, 16);
		*len = 16;
	}
	return true;
}

/* ADDR's entry, made when MAKE (NULL without it, or out of memory).
 * Under s->clock. */
static struct peer *peer_find(struct cf_server *s,
			      const struct sockaddr *addr, bool make)
{
	unsigned char key[16];
	size_t len;
	uint32_t h = 2166136261u;  /* FNV-1a */
	struct peer *p;

	if (!peer_key(addr, key, &len))
		return NULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ key[i]) * 16777619u;
	for (p = s->peers[h % PEER_BUCKETS]; p; p = p->next)
		if (p->len == len && !memcmp(p->addr, key, len))
			return p;
	if (!make || !(p = calloc(1, sizeof(*p))))
		return NULL;
	memcpy(p->addr, key, len);
	p->len = len;
	p->hash = h;
	p->next = s->peers[h % PEER_BUCKETS];
	s->peers[h % PEER_BUCKETS] = p;
	return p;
}

/* A connection of P closed: the entry goes with its last.  Under
 * s->clock. */
static void peer_release(struct cf_server *s, struct peer *p)
{
	struct peer **pp;

	if (--p->refs)
		return;
	for (pp = &s->peers[p->hash % PEER_BUCKETS]; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	free(p);
}

void cf_conns_free(struct cf_server *s)
{
	for (size_t i = 0; i < PEER_BUCKETS; i++)
		while (s->peers[i]) {
			struct peer *p = s->peers[i];
			s->peers[i] = p->next;
			free(p);
		}
}

/* The tracking of connection C, NULL if none. */
static struct track *conn_track(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* The connection of C enters PHASE now. */
void cf_conns_phase(struct cf_server *s, struct MHD_Connection *c,
		    enum phase phase)
{
	struct track *t = conn_track(c);

	if (!t)
		return;
	pthread_mutex_lock(&s->clock);
	t->phase = phase;
	t->since = cf_conns_now_ms();
	t->hup = 0;
	track_unlink(s, t);
	track_append(s, t);
	pthread_mutex_unlock(&s->clock);
}

void cf_conns_on_connection(void *cls, struct MHD_Connection *c,
			    void **socket_context,
			    enum MHD_ConnectionNotificationCode code)
{
	struct cf_server *s = cls;
	struct track *t = *socket_context, *old;
	const union MHD_ConnectionInfo *ci;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (!t)
			return;
		pthread_mutex_lock(&s->clock);
		/* Under the lock, so the reaper never sees T's events after
		 * this; the descriptor is still open. */
		if (s->hupfd >= 0)
			epoll_ctl(s->hupfd, EPOLL_CTL_DEL, t->fd, NULL);
		track_unlink(s, t);
		s->nconns--;
		if (t->shut)
			s->nshut--;
		else if (t->peer)
			t->peer->n--;
		if (t->peer)
			peer_release(s, t->peer);
		pthread_mutex_unlock(&s->clock);
		free(t);
		*socket_context = NULL;
		return;
	}
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	t = calloc(1, sizeof(*t));
	if (!t || !ci) {
		free(t);
		return;  /* untracked: only libmicrohttpd's timeout ends it */
	}
	t->fd = ci->connect_fd;
	t->phase = PH_IDLE;
	t->since = cf_conns_now_ms();
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	pthread_mutex_lock(&s->clock);
	t->peer = ci ? peer_find(s, ci->client_addr, true) : NULL;
	if (t->peer) {
		t->peer->n++;
		t->peer->refs++;
	}
	track_append(s, t);
	s->nconns++;
	if (s->hupfd >= 0) {
		struct epoll_event ev = { .events = EPOLLRDHUP, .data.ptr = t };
		epoll_ctl(s->hupfd, EPOLL_CTL_ADD, t->fd, &ev);
	}
	/* Nearly full: the connection idle the longest (the list is in order
	 * of phase start) makes room, so that clients holding connections
	 * without sending requests cannot lock new ones out. */
	if (s->nconns - s->nshut > s->evict_at)
		for (old = s->head; old && old != t; old = old->next)
			if (old->phase == PH_IDLE && !old->shut) {
				track_shut(s, old, CLOSE_EVICTED);
				break;
			}
	pthread_mutex_unlock(&s->clock);
	*socket_context = t;
}

/* The connection limit, over all event threads and not counting the
 * connections already shut (evicted, their close on its way): a flood
 * that evicts as fast as it connects must not lock new clients out while
 * the closes catch up.  libmicrohttpd's own limit, a quarter higher and
 * split between the threads, is the backstop.  Once the table is seven
 * eighths full, a client holding half of what is open gets no more: its
 * new connections are closed at once, which costs the server far less
 * than taking them and evicting others, and leaves the room to everyone
 * else. */
enum MHD_Result cf_conns_on_accept(void *cls, const struct sockaddr *addr,
				   socklen_t addrlen)
{
	struct cf_server *s = cls;
	const struct peer *p;
	size_t live;
	bool room;

	(void)addrlen;
	pthread_mutex_lock(&s->clock);
	live = s->nconns - s->nshut;
	room = live < s->conn_limit;
	if (room && live >= s->evict_at &&
	    (p = peer_find(s, addr, false)) != NULL && 2 * p->n >= live)
		room = false;
	if (!room)
		s->closed[CLOSE_REFUSED]++;
	pthread_mutex_unlock(&s->clock);
	return room ? MHD_YES : MHD_NO;
}

/* Ends the connections whose client has shut its side while the server
 * waits for a request: libmicrohttpd 0.9.75 keeps one whose request line
 * never got its end of line (seen with "GET / HTTP/1.1" and a FIN) until
 * the header deadline.  Only once the connection has been waiting for a
 * request, with nothing left unread in the socket, in two rounds in a
 * row: a request that came with the FIN is libmicrohttpd's to answer.
 * Under s->clock, which also guards the epoll set's removals, so every
 * event is of a live track. */
static void reap_half_closed(struct cf_server *s)
{
	struct epoll_event ev[HUP_BATCH];
	int n = epoll_wait(s->hupfd, ev, HUP_BATCH, 0);

	for (int i = 0; i < n; i++) {
		struct track *t = ev[i].data.ptr;
		int unread = 1;

		if (t->shut || t->phase != PH_IDLE ||
		    ioctl(t->fd, FIONREAD, &unread) != 0 || unread != 0) {
			t->hup = 0;
			continue;
		}
		if (++t->hup >= 2)
			track_shut(s, t, CLOSE_HALF);
	}
}

/* Every REAP_EVERY_MS: ends the connections past their deadline (idle or
 * trickling headers, or a body that does not arrive in time).  A slow
 * client cannot hold a connection by sending a byte now and then, as it
 * can against libmicrohttpd's timeout, which counts from the last byte. */
void *cf_conns_reaper(void *arg)
{
	struct cf_server *s = arg;
	struct timespec ts;

	uint64_t first = s->header_ms < s->body_ms ? s->header_ms : s->body_ms;

	pthread_mutex_lock(&s->clock);
	while (!s->reaper_stop) {
		uint64_t now = cf_conns_now_ms();
		unsigned n = 0;

		if (s->hupfd >= 0)
			reap_half_closed(s);
		/* Oldest phase first: past the first connection within both
		 * deadlines, none is late. */
		for (struct track *t = s->head; t && now - t->since > first &&
		     n < REAP_BATCH; t = t->next) {
			if (t->shut)
				continue;
			if (t->phase == PH_IDLE && now - t->since > s->header_ms)
				track_shut(s, t, CLOSE_HEADER);
			else if (t->phase == PH_BODY && now - t->since > s->body_ms)
				track_shut(s, t, CLOSE_BODY);
			else
				continue;
			n++;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += REAP_EVERY_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->cwake, &s->clock, &ts);
	}
	pthread_mutex_unlock(&s->clock);
	return NULL;
}
