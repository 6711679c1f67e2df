// The request format of the crypto service, shared by the kernel, the
// server (/crypto_srv) and its clients.
//
// A client builds a request in its own memory: this 24-byte header, then
// key_size key bytes, then data_size data bytes.  crypto_op() queues it;
// the server maps those pages, XORs the data with the repeated key in place,
// and sets state to DONE (or ERROR for a malformed request).
#ifndef XV6_CRYPTO_H
#define XV6_CRYPTO_H

#include "kernel/types.h"

enum crypto_op_type {
  CRYPTO_OP_TYPE_INVALID = 0,
  CRYPTO_OP_TYPE_ENCRYPT = 1,
  CRYPTO_OP_TYPE_DECRYPT = 2,
};

enum crypto_op_state {
  CRYPTO_OP_STATE_INIT  = 1,
  CRYPTO_OP_STATE_DONE  = 2,
  CRYPTO_OP_STATE_ERROR = 3,
};

struct crypto_op {
  int type;          // enum crypto_op_type
  int state;         // enum crypto_op_state
  uint64 key_size;   // bytes of key in payload
  uint64 data_size;  // bytes of data in payload, after the key
  uchar payload[];   // key, then data
};

// The server's pid: the kernel starts /crypto_srv as the second process.
#define CRYPTO_SERVER_PID 2

// Requests waiting for the server.
#define CRYPTO_QUEUE_LEN 16

#endif
