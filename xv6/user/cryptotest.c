// cryptotest: a workout for the crypto service.
//
//  1. several clients at once, many requests each, sizes from 1 byte to
//     several pages and keys of different lengths: encrypting gives data XOR
//     repeated key, decrypting gives the original back;
//  2. malformed requests come back as ERROR with the data untouched, and
//     crypto_op() refuses bad arguments;
//  3. clients that exit or are killed with a request queued or in service,
//     and a burst that overflows the queue, leave the server working;
//  4. afterwards the kernel has exactly as many free pages as before.
// Prints one line per part and "cryptotest: ALL OK" when everything passed.
#include "kernel/types.h"
#include "kernel/riscv.h"
#include "kernel/crypto.h"
#include "user/user.h"

#define NCLIENTS   3
#define POLL_TICKS 1000   // give up on an answer after this many ticks
#define NELEMS(a)  ((int)(sizeof(a) / sizeof((a)[0])))

static uint32 rng_state;

static uint32
rng(void)
{
  rng_state = rng_state * 1103515245u + 12345u;
  return rng_state >> 8;
}

static void
fail(const char *what)
{
  printf("cryptotest: FAILED: %s (pid %d)\n", what, getpid());
  exit(1);
}

static struct crypto_op *
new_request(int type, uint64 key_size, uint64 data_size)
{
  struct crypto_op *op = malloc(sizeof(*op) + key_size + data_size);
  if (op == 0)
    fail("malloc");
  op->type = type;
  op->state = CRYPTO_OP_STATE_INIT;
  op->key_size = key_size;
  op->data_size = data_size;
  return op;
}

static uint64
request_size(struct crypto_op *op)
{
  return sizeof(*op) + op->key_size + op->data_size;
}

// Submit (retrying while the queue is full) and wait for the answer: for
// the state to change from what it was at submission (INIT, normally).
static int
submit_and_wait(struct crypto_op *op, uint64 size)
{
  int submitted = op->state;
  int tries = 0;
  while (crypto_op(op, size) < 0) {
    if (++tries > POLL_TICKS)
      fail("crypto_op keeps failing");
    sleep(1);
  }
  volatile int *state = &op->state;
  for (int t = 0; *state == submitted; t++) {
    if (t > POLL_TICKS)
      fail("no answer from the server");
    sleep(1);
  }
  return *state;
}

static void
client(int id)
{
  static const uint64 sizes[] = { 1, 7, 100, 4095, 4096, 4097, 9000, 3 * 4096 + 5 };
  static const uint64 keys[] = { 1, 3, 6, 16, 255 };
  rng_state = 1000 + id;
  int n = 0;
  for (int s = 0; s < NELEMS(sizes); s++) {
    uint64 key_size = keys[(s + id) % NELEMS(keys)];
    uint64 data_size = sizes[s];
    struct crypto_op *op = new_request(CRYPTO_OP_TYPE_ENCRYPT, key_size, data_size);
    uchar *key = op->payload, *data = op->payload + key_size;
    uchar *orig = malloc(data_size);
    if (orig == 0)
      fail("malloc");
    for (uint64 i = 0; i < key_size; i++)
      key[i] = rng();
    for (uint64 i = 0; i < data_size; i++)
      data[i] = orig[i] = rng();

    if (submit_and_wait(op, request_size(op)) != CRYPTO_OP_STATE_DONE)
      fail("encrypt not DONE");
    for (uint64 i = 0; i < data_size; i++)
      if (data[i] != (orig[i] ^ key[i % key_size]))
        fail("encrypted data wrong");

    op->type = CRYPTO_OP_TYPE_DECRYPT;
    op->state = CRYPTO_OP_STATE_INIT;
    if (submit_and_wait(op, request_size(op)) != CRYPTO_OP_STATE_DONE)
      fail("decrypt not DONE");
    if (memcmp(data, orig, data_size) != 0)
      fail("decrypt did not give the original back");
    free(orig);
    free(op);
    n += 2;
  }
  exit(n);
}

static void
expect_error(struct crypto_op *op, uint64 size, const char *what)
{
  uint64 payload = size - sizeof(*op);
  uchar *copy = malloc(payload + 1);
  memcpy(copy, op->payload, payload);
  if (submit_and_wait(op, size) != CRYPTO_OP_STATE_ERROR)
    fail(what);
  if (memcmp(copy, op->payload, payload) != 0)
    fail("malformed request's payload was changed");
  free(copy);
}

static void
malformed(void)
{
  struct crypto_op *op = new_request(CRYPTO_OP_TYPE_ENCRYPT, 4, 100);
  uint64 size = request_size(op);
  memset(op->payload, 0x5a, 104);

  op->type = 0;
  expect_error(op, size, "type 0 not rejected");
  op->type = 3;
  op->state = CRYPTO_OP_STATE_INIT;
  expect_error(op, size, "type 3 not rejected");
  op->type = CRYPTO_OP_TYPE_ENCRYPT;
  op->state = CRYPTO_OP_STATE_DONE;
  expect_error(op, size, "state DONE not rejected");
  op->state = CRYPTO_OP_STATE_INIT;
  op->key_size = 0;
  expect_error(op, size, "key_size 0 not rejected");
  op->state = CRYPTO_OP_STATE_INIT;
  op->key_size = 105;
  op->data_size = 0;
  expect_error(op, size, "key larger than the request not rejected");
  op->state = CRYPTO_OP_STATE_INIT;
  op->key_size = 4;
  op->data_size = 101;
  expect_error(op, size, "data past the request not rejected");
  op->state = CRYPTO_OP_STATE_INIT;
  op->key_size = 8;
  op->data_size = (uint64)-4;   // key_size + data_size wraps around
  expect_error(op, size, "wrapping sizes not rejected");

  // The kernel refuses what it can check itself.
  op->state = CRYPTO_OP_STATE_INIT;
  op->key_size = 4;
  op->data_size = 100;
  if (crypto_op(op, 0) != -1) fail("size 0 accepted");
  if (crypto_op(op, sizeof(*op) - 1) != -1) fail("size below the header accepted");
  if (crypto_op((struct crypto_op *)sbrk(0), 64) != -1) fail("address above the break accepted");
  if (crypto_op((struct crypto_op *)0x80000000L, 64) != -1) fail("kernel address accepted");
  if (crypto_op(op, (uint64)-16) != -1) fail("wrapping size accepted");
  if (crypto_op((struct crypto_op *)0x3fffffe000L, 64) != -1) fail("trap frame accepted");
  printf("cryptotest: malformed requests: ok\n");
  exit(0);
}

// Clients that go away with a request queued or being served.
static void
vanishing_clients(void)
{
  int pid = fork();
  if (pid == 0) {
    struct crypto_op *op = new_request(CRYPTO_OP_TYPE_ENCRYPT, 16, 3 * 4096);
    memset(op->payload, 1, 16 + 3 * 4096);
    crypto_op(op, request_size(op));
    exit(0);                       // gone before (or while) it is served
  }
  wait(0);

  pid = fork();
  if (pid == 0) {
    struct crypto_op *op = new_request(CRYPTO_OP_TYPE_DECRYPT, 6, 8000);
    memset(op->payload, 2, 6 + 8000);
    crypto_op(op, request_size(op));
    for (;;)
      ;                            // spin until killed
  }
  sleep(1);
  kill(pid);
  wait(0);

  // A burst bigger than the queue: some are refused, the rest are served.
  pid = fork();
  if (pid == 0) {
    enum { BURST = 3 * CRYPTO_QUEUE_LEN };
    struct crypto_op *ops[BURST];
    int accepted[BURST], refused = 0;
    for (int i = 0; i < BURST; i++) {
      ops[i] = new_request(CRYPTO_OP_TYPE_ENCRYPT, 1, 10);
      memset(ops[i]->payload, 0, 11);
      ops[i]->payload[0] = 0x11;
    }
    for (int i = 0; i < BURST; i++) {
      accepted[i] = crypto_op(ops[i], request_size(ops[i])) == 0;
      refused += !accepted[i];
    }
    if (refused == 0)
      fail("a full queue accepted more requests");
    for (int i = 0; i < BURST; i++) {
      if (!accepted[i])
        continue;
      volatile int *state = &ops[i]->state;
      for (int t = 0; *state == CRYPTO_OP_STATE_INIT; t++) {
        if (t > POLL_TICKS)
          fail("burst request not answered");
        sleep(1);
      }
      if (*state != CRYPTO_OP_STATE_DONE || ops[i]->payload[1] != 0x11)
        fail("burst request wrong");
    }
    exit(0);
  }
  int status;
  wait(&status);
  if (status != 0)
    exit(1);

  // The server still works.
  pid = fork();
  if (pid == 0) {
    struct crypto_op *op = new_request(CRYPTO_OP_TYPE_ENCRYPT, 2, 2);
    op->payload[0] = 0xf0; op->payload[1] = 0x0f;
    op->payload[2] = 0xff; op->payload[3] = 0x00;
    if (submit_and_wait(op, request_size(op)) != CRYPTO_OP_STATE_DONE ||
        op->payload[2] != 0x0f || op->payload[3] != 0x0f)
      fail("server broken after vanishing clients");
    exit(0);
  }
  wait(&status);
  if (status != 0)
    exit(1);
  printf("cryptotest: vanishing clients and a full queue: ok\n");
}

// Run f in a child and return its exit status.
static int
in_child(void (*f)(void))
{
  int pid = fork();
  if (pid < 0)
    fail("fork");
  if (pid == 0) {
    f();
    exit(0);
  }
  int status;
  wait(&status);
  return status;
}

static void
warm_up(void)
{
  // One big request first, so that the server's page-table pages for
  // mapping requests exist before we count free pages.
  struct crypto_op *op = new_request(CRYPTO_OP_TYPE_ENCRYPT, 1, 4 * 4096);
  if (submit_and_wait(op, request_size(op)) != CRYPTO_OP_STATE_DONE)
    fail("warm-up request");
  exit(0);
}

int
main(void)
{
  if (in_child(warm_up) != 0)
    exit(1);
  int free_before = freepages();

  int pids[NCLIENTS];
  for (int i = 0; i < NCLIENTS; i++) {
    pids[i] = fork();
    if (pids[i] < 0)
      fail("fork");
    if (pids[i] == 0)
      client(i);
  }
  int served = 0, bad = 0;
  for (int i = 0; i < NCLIENTS; i++) {
    int status;
    wait(&status);
    if (status <= 0)
      bad++;
    else
      served += status;
  }
  if (bad)
    fail("a client failed");
  printf("cryptotest: %d clients, %d requests: ok\n", NCLIENTS, served);

  if (in_child(malformed) != 0)
    exit(1);
  vanishing_clients();

  // The server unmaps a request right after answering it; give it a moment.
  int free_after = freepages();
  for (int t = 0; t < 100 && free_after != free_before; t++) {
    sleep(1);
    free_after = freepages();
  }
  if (free_after != free_before) {
    printf("cryptotest: FAILED: %d pages free before, %d after\n", free_before, free_after);
    exit(1);
  }
  printf("cryptotest: no pages leaked\n");
  printf("cryptotest: ALL OK\n");
  exit(0);
}
