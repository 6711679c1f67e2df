// crypto_cli: asks the crypto server to decrypt a secret sentence.
//
// The ciphertext below is the sentence XORed with the key "OS2024"
// repeated.  The request is built in malloc'ed memory, handed to the kernel
// with crypto_op(), and the client polls the state field until the server
// has answered.  A working system prints the sentence.
#include "kernel/types.h"
#include "kernel/crypto.h"
#include "user/user.h"

static const char key[] = "OS2024";
static const uchar secret[60] = {
  0x1b, 0x3b, 0x5b, 0x43, 0x12, 0x5d, 0x3c, 0x73, 0x53, 0x10, 0x41, 0x51,
  0x2c, 0x21, 0x57, 0x44, 0x12, 0x47, 0x3b, 0x21, 0x5b, 0x5e, 0x55, 0x14,
  0x3b, 0x3c, 0x12, 0x52, 0x57, 0x14, 0x2b, 0x36, 0x51, 0x42, 0x4b, 0x44,
  0x3b, 0x36, 0x56, 0x10, 0x50, 0x4d, 0x6f, 0x27, 0x5a, 0x55, 0x12, 0x57,
  0x3d, 0x2a, 0x42, 0x44, 0x5d, 0x14, 0x3c, 0x36, 0x40, 0x46, 0x57, 0x46,
};

int
main(void)
{
  uint64 key_size = sizeof(key) - 1;
  uint64 data_size = sizeof(secret);
  uint64 size = sizeof(struct crypto_op) + key_size + data_size + 1;

  struct crypto_op *op = malloc(size);
  if (op == 0) {
    fprintf(2, "crypto_cli: out of memory\n");
    exit(1);
  }
  op->type = CRYPTO_OP_TYPE_DECRYPT;
  op->state = CRYPTO_OP_STATE_INIT;
  op->key_size = key_size;
  op->data_size = data_size;
  memcpy(op->payload, key, key_size);
  memcpy(op->payload + key_size, secret, data_size);
  op->payload[key_size + data_size] = 0;   // terminates the printed string

  if (crypto_op(op, size) < 0) {
    fprintf(2, "crypto_cli: crypto_op failed (is crypto_srv running?)\n");
    exit(1);
  }

  // Poll until the server has answered.
  volatile int *state = &op->state;
  while (*state == CRYPTO_OP_STATE_INIT)
    ;

  if (*state != CRYPTO_OP_STATE_DONE) {
    fprintf(2, "crypto_cli: the server rejected the request\n");
    exit(1);
  }
  printf("%s\n", (char *)(op->payload + key_size));
  exit(0);
}
