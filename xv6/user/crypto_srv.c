// crypto_srv: the crypto server.  The kernel starts it as process 2.
//
// It loops forever: take a request (the kernel maps the client's pages into
// this process), check it, XOR the data with the repeated key in place, set
// the state to DONE (or ERROR for a malformed request) and unmap the pages.
// A `fence rw,rw` comes before every write to the state field, so that the
// client never sees DONE before the data it guards.
#include "kernel/types.h"
#include "kernel/crypto.h"
#include "user/user.h"

static void
set_state(volatile struct crypto_op *op, int state)
{
  asm volatile("fence rw,rw" : : : "memory");
  op->state = state;
}

// Serve one request of size bytes at op (size >= the header, the kernel
// checks that).  The client can change the shared memory at any moment, so
// every header field is read once and only the copies are trusted.
static void
serve(volatile struct crypto_op *op, uint64 size)
{
  int state = op->state;
  int type = op->type;
  uint64 key_size = op->key_size;
  uint64 data_size = op->data_size;
  uint64 room = size - sizeof(struct crypto_op);

  int valid = state == CRYPTO_OP_STATE_INIT &&
              (type == CRYPTO_OP_TYPE_ENCRYPT || type == CRYPTO_OP_TYPE_DECRYPT) &&
              key_size > 0 && key_size <= room &&
              data_size <= room - key_size;   // no overflow: key_size <= room
  if (!valid) {
    set_state(op, CRYPTO_OP_STATE_ERROR);
    return;
  }

  volatile uchar *key = op->payload;
  volatile uchar *data = op->payload + key_size;
  uint64 k = 0;
  for (uint64 i = 0; i < data_size; i++) {
    data[i] ^= key[k];
    if (++k == key_size)
      k = 0;
  }
  set_state(op, CRYPTO_OP_STATE_DONE);
}

int
main(void)
{
  if (getpid() != CRYPTO_SERVER_PID) {
    fprintf(2, "crypto_srv: only the kernel may start the server (as pid %d)\n",
            CRYPTO_SERVER_PID);
    exit(1);
  }
  for (;;) {
    void *addr;
    uint64 size;
    if (take_shared_memory_request(&addr, &size) < 0)
      continue;
    if (size >= sizeof(struct crypto_op))
      serve((volatile struct crypto_op *)addr, size);
    remove_shared_memory_request(addr, size);
  }
}
