// The kernel side of the crypto service (assignment 3, task 2).
//
// The kernel only queues requests and moves pages: it never reads a key or
// the data.  A client calls crypto_op(op, size) on a request it built in its
// own memory; the request (who, where, how big) waits in a 16-entry queue.
// The server, /crypto_srv, started by the kernel as pid 2, calls
// take_shared_memory_request() to sleep until a request arrives and get the
// client's pages mapped into its own address space, processes the request
// there, and calls remove_shared_memory_request() to drop the mapping.
//
// A request names its client by pid.  Pids are never reused, so a client that
// exits or is killed while its request is queued simply makes the request
// stale: the server skips it.  A client that dies while the server works on
// its pages leaves the pages to the server until it unmaps them (the page
// reference counts make that safe).

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"
#include "kernel/crypto.h"

struct crypto_request {
  int client_pid;
  uint64 va;      // start of the request in the client's memory
  uint64 size;    // bytes, header included
};

static struct {
  struct spinlock lock;
  struct crypto_request ring[CRYPTO_QUEUE_LEN];
  int head;       // oldest request
  int count;      // requests waiting
} queue = { .lock = SPINLOCK_INIT("crypto queue") };

// Is the crypto server alive (and not exiting)?
static int
server_alive(void)
{
  struct proc *srv = proc_lock_live(CRYPTO_SERVER_PID);
  if (srv == 0)
    return 0;
  int ok = !srv->killed;
  release(&srv->lock);
  return ok;
}

// crypto_op(op, size): queue the request at op (size bytes, header
// included) for the server.  0, or -1 for a bad range, a full queue, or no
// server.
uint64
sys_crypto_op(struct sysarg *arg)
{
  uint64 va = arg[0].val, size = arg[1].val;

  struct proc *me = myproc();
  if (size < sizeof(struct crypto_op) || va >= me->sz || size > me->sz - va)
    return -1;
  if (me->pid == CRYPTO_SERVER_PID || !server_alive())
    return -1;

  acquire(&queue.lock);
  if (queue.count == CRYPTO_QUEUE_LEN) {
    release(&queue.lock);
    return -1;
  }
  struct crypto_request *r = &queue.ring[(queue.head + queue.count) % CRYPTO_QUEUE_LEN];
  r->client_pid = me->pid;
  r->va = va;
  r->size = size;
  queue.count++;
  wakeup(&queue);
  release(&queue.lock);
  return 0;
}

// Sleep until a request is queued and take it.  0, or -1 if the caller was
// killed while waiting.
static int
dequeue(struct crypto_request *out)
{
  acquire(&queue.lock);
  while (queue.count == 0) {
    if (killed(myproc())) {
      release(&queue.lock);
      return -1;
    }
    sleep(&queue, &queue.lock);
  }
  *out = queue.ring[queue.head];
  queue.head = (queue.head + 1) % CRYPTO_QUEUE_LEN;
  queue.count--;
  release(&queue.lock);
  return 0;
}

// Map the client's request into the server (me).  The address in the
// server, or -1 if the client is gone or its memory no longer holds the
// range.  Both processes' locks are held while their memory changes; they
// are taken in table order so that two such paths cannot deadlock.
static uint64
map_request(struct proc *me, struct crypto_request *r)
{
  struct proc *client = proc_lock_live(r->client_pid);
  if (client == 0)
    return -1;
  if (client->killed) {
    release(&client->lock);
    return -1;
  }
  // proc_lock_live() returned the client locked; take our own lock without
  // holding two locks in an order another path could reverse: release and
  // reacquire in address order, then re-check the client.
  release(&client->lock);
  struct proc *lo = client < me ? client : me;
  struct proc *hi = client < me ? me : client;
  acquire(&lo->lock);
  acquire(&hi->lock);
  uint64 r_va = -1;
  if (client->pid == r->client_pid && proc_is_live(client) && !client->killed)
    r_va = map_shared_pages(client, me, r->va, r->size);
  release(&hi->lock);
  release(&lo->lock);
  return r_va;
}

// take_shared_memory_request(&addr, &size): for the server only.  Waits for
// a request, maps its pages into the caller and returns 0 with the mapped
// address (in-page offset kept) and the size written to *addr and *size.
// Requests whose client has gone are dropped.  -1 if the caller is not the
// server, was killed, or passed bad pointers.
uint64
sys_take_shared_memory_request(struct sysarg *arg)
{
  uint64 uaddr = arg[0].val, usize = arg[1].val;

  struct proc *me = myproc();
  if (me->pid != CRYPTO_SERVER_PID)
    return -1;

  for (;;) {
    struct crypto_request r;
    if (dequeue(&r) < 0)
      return -1;
    uint64 va = map_request(me, &r);
    if (va == (uint64)-1)
      continue;   // the client exited or shrank its memory: drop it
    if (copyout(me->pagetable, uaddr, (char *)&va, sizeof(va)) < 0 ||
        copyout(me->pagetable, usize, (char *)&r.size, sizeof(r.size)) < 0) {
      unmap_own_shared(va, r.size);
      return -1;
    }
    return 0;
  }
}

// remove_shared_memory_request(addr, size) is unmap_shared_pages (shmem.c):
// the system call table sends both to the same handler.
