/* SASL authentication of a binary-protocol connection, through libsasl2. */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sasl/sasl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fsmc-int.h"

#define OP_SASL_LIST 0x20
#define OP_SASL_AUTH 0x21
#define OP_SASL_STEP 0x22
#define ST_AUTH_CONTINUE 0x21
/* A mechanism list or a challenge is short. */
#define SASL_BODY_MAX 4096

/* libsasl2's client side is set up once per process, as it asks. */
static pthread_once_t sasl_once = PTHREAD_ONCE_INIT;
static int sasl_ready;

static void
sasl_setup(void)
{
	sasl_ready = sasl_client_init(NULL) == SASL_OK;
}

/* The credentials of one authentication, for libsasl2's callbacks. */
struct credentials {
	const char *user;
	sasl_secret_t *secret;
};

static int
get_user(void *ctx, int id, const char **result, unsigned *len)
{
	const struct credentials *cr = ctx;

	if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME)
		return (SASL_BADPARAM);
	*result = cr->user;
	if (len != NULL)
		*len = (unsigned)strlen(cr->user);
	return (SASL_OK);
}

static int
get_secret(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **psecret)
{
	struct credentials *cr = ctx;

	(void)conn;
	if (id != SASL_CB_PASS)
		return (SASL_BADPARAM);
	*psecret = cr->secret;
	return (SASL_OK);
}

/* "address;port" of one end of the socket, as libsasl2 takes it. */
static int
endpoint(int fd, int peer, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	char host[64];
	unsigned port;

	if ((peer ? getpeername(fd, (struct sockaddr *)&ss, &sslen) :
		    getsockname(fd, (struct sockaddr *)&ss, &sslen)) != 0)
		return (-1);
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
		port = ntohs(in->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
		port = ntohs(in6->sin6_port);
	} else
		return (-1);
	snprintf(buf, len, "%s;%u", host, port);
	return (0);
}

/* Send one SASL request and read its response, whose body *h holds. */
static memcached_return_t
exchange(struct fsmc_conn *c, int64_t deadline, int opcode, const char *mech,
    const char *data, unsigned len, struct bin_frame *h)
{
	memcached_return_t rc;

	if (fsmc_bin_put(c, opcode, NULL, 0, mech,
		mech != NULL ? strlen(mech) : 0, data, len, 0) != 0)
		return (
		    fsmc_conn_fail(c, MEMCACHED_MEMORY_ALLOCATION_FAILURE, 0));
	if ((rc = fsmc_conn_send(c, deadline)) != MEMCACHED_SUCCESS)
		return (rc);
	return (fsmc_bin_response(c, deadline, opcode, 0, SASL_BODY_MAX, h));
}

/*
 * Authenticate a new connection with the configured user and password,
 * by a mechanism both sides have.  A failure closes the connection.
 */
memcached_return_t
fsmc_sasl_auth(struct fsmc_conn *c, int64_t deadline)
{
	const char *user = c->st->sasl_user, *pass = c->st->sasl_password;
	sasl_callback_t callbacks[4];
	struct credentials cr;
	struct bin_frame h;
	char local[96], remote[96], *mechs = NULL;
	const char *mech = NULL, *data = NULL;
	unsigned len = 0;
	sasl_conn_t *sc = NULL;
	memcached_return_t rc;
	size_t plen = strlen(pass);
	int r;

	pthread_once(&sasl_once, sasl_setup);
	if (!sasl_ready)
		return (fsmc_conn_fail(c, MEMCACHED_AUTH_PROBLEM, 0));
	if ((cr.secret = calloc(1, sizeof *cr.secret + plen + 1)) == NULL)
		return (
		    fsmc_conn_fail(c, MEMCACHED_MEMORY_ALLOCATION_FAILURE, 0));
	cr.user = user;
	cr.secret->len = plen;
	memcpy(cr.secret->data, pass, plen);
	callbacks[0].id = SASL_CB_USER;
	callbacks[0].proc = (int (*)(void))(void (*)(void))get_user;
	callbacks[0].context = &cr;
	callbacks[1].id = SASL_CB_AUTHNAME;
	callbacks[1].proc = (int (*)(void))(void (*)(void))get_user;
	callbacks[1].context = &cr;
	callbacks[2].id = SASL_CB_PASS;
	callbacks[2].proc = (int (*)(void))(void (*)(void))get_secret;
	callbacks[2].context = &cr;
	callbacks[3].id = SASL_CB_LIST_END;
	callbacks[3].proc = NULL;
	callbacks[3].context = NULL;

	rc = exchange(c, deadline, OP_SASL_LIST, NULL, NULL, 0, &h);
	if (rc != MEMCACHED_SUCCESS)
		goto done;
	if (h.status != 0 || h.body == NULL) {
		free(h.body);
		rc = fsmc_conn_fail(c, MEMCACHED_AUTH_PROBLEM, 0);
		goto done;
	}
	mechs = h.body;
	if (endpoint(c->fd, 0, local, sizeof local) != 0 ||
	    endpoint(c->fd, 1, remote, sizeof remote) != 0)
		local[0] = remote[0] = '\0';
	r = sasl_client_new("memcached", c->sc->host,
	    local[0] != '\0' ? local : NULL, remote[0] != '\0' ? remote : NULL,
	    callbacks, 0, &sc);
	if (r == SASL_OK)
		r = sasl_client_start(sc, mechs, NULL, &data, &len, &mech);
	if (r != SASL_OK && r != SASL_CONTINUE) {
		rc = fsmc_conn_fail(c, MEMCACHED_AUTH_PROBLEM, 0);
		goto done;
	}
	rc = exchange(c, deadline, OP_SASL_AUTH, mech, data, len, &h);
	while (rc == MEMCACHED_SUCCESS && h.status == ST_AUTH_CONTINUE) {
		r = sasl_client_step(
		    sc, h.body, (unsigned)h.bodylen, NULL, &data, &len);
		free(h.body);
		h.body = NULL;
		if (r != SASL_OK && r != SASL_CONTINUE) {
			rc = fsmc_conn_fail(c, MEMCACHED_AUTH_PROBLEM, 0);
			goto done;
		}
		rc = exchange(c, deadline, OP_SASL_STEP, mech, data, len, &h);
	}
	if (rc == MEMCACHED_SUCCESS) {
		free(h.body);
		if (h.status != 0)
			rc = fsmc_conn_fail(c, MEMCACHED_AUTH_FAILURE, 0);
	}
done:
	if (sc != NULL)
		sasl_dispose(&sc);
	free(mechs);
	memset(cr.secret->data, 0, plen);
	free(cr.secret);
	return (rc);
}
