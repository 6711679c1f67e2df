// C++ driver for the CXXRTL model of the SoC (soc/soc.py), loaded by sim/engine.py
// through ctypes.  The per-cycle loop lives here: clocking, the UART byte streams,
// the block device's storage port (a sector store in memory; a SoC whose storage is
// an SD card model has no such port, and the card is a memory of the model, filled
// with sim_mem_access), retire counting, the interrupt-claim watch (ClaimWatch), the
// tohost watch used by bare-metal tests,
// idle-time skipping on `wfi`, and on request the logs of retire reports, DMA
// writes and the MMU's A/D writes (Log) and waveform windows (WaveCapture).
//
// The generated model is included as "model.cc" (yosys write_cxxrtl output) and
// must define cxxrtl_design::p_soc.  Everything the driver touches is looked up
// by its debug name once, so the driver does not depend on CXXRTL's name mangling.
//
// The cycle protocol is mirrored exactly by the Python engine in sim/engine.py
// (PysimEngine); both must give the same cycle counts for the same inputs:
//   1. rising edge; the output ports are sampled as the design shows them at the
//      edge (pysim: ctx.tick().sample(...));
//   2. the outside-world models take the samples and drive the inputs for the next
//      edge;
//   3. if `wfi` was high at the edge, mtime moves to one tick before the next timer
//      event (registers are read and written after the edge).

#include <cxxrtl/cxxrtl.h>

// Every memory write of the model comes here (sim/cxxrtl/build.py edits write_cxxrtl's
// `memory.update(index, data, mask, priority)` calls into this): CXXRTL would compute
// the data and queue a write for every write port on every clock edge, enabled or not;
// one whose mask is all zeros changes nothing, so its data (`data()`, the expression
// that computes it) is not even computed.
template<size_t Width, typename Data>
inline void masked_update(cxxrtl::memory<Width> &mem, size_t index,
                          const cxxrtl::value<Width> &mask, int priority, Data &&data) {
	if (!mask.is_zero())
		mem.update(index, data(), mask, priority);
}

// Shifts by a signal (sim/cxxrtl/build.py turns write_cxxrtl's `shl_uu<N>(a, b)` and
// `shr_uu<N>(a, b)` into these): CXXRTL shifts a value chunk by chunk with a loop whose
// trip count and store positions depend on the amount, about 30-40 machine
// instructions and branches for a 64-bit value, where one shift of a machine word does
// (the load aligners and the store positioner of the core's memory stage shift 64- and
// 127-bit values in every cycle).  Operands and result of at most 128 bits are shifted
// as one integer, with CXXRTL's meaning: shl_uu<Y> widens or cuts `a` to Y bits and
// shifts within them, shr_uu<Y> shifts within `a`'s width and then widens or cuts; an
// amount of at least the width gives 0.  Wider values go to CXXRTL's own.
namespace fast_shift {

using cxxrtl::value;
typedef unsigned __int128 u128;

template<size_t Bits>
using word_t = typename std::conditional<(Bits <= 64), uint64_t, u128>::type;

template<typename T, size_t Bits>
CXXRTL_ALWAYS_INLINE T get(const value<Bits> &v) {
	T r = 0;
	for (size_t n = 0; n < value<Bits>::chunks; n++)
		r |= T(v.data[n]) << (n * value<Bits>::chunk::bits);
	return r;
}

template<size_t Bits, typename T>
CXXRTL_ALWAYS_INLINE value<Bits> put(T x) {
	value<Bits> v;
	for (size_t n = 0; n < value<Bits>::chunks; n++)
		v.data[n] = typename value<Bits>::chunk::type(x >> (n * value<Bits>::chunk::bits));
	v.data[value<Bits>::chunks - 1] &= value<Bits>::msb_mask;
	return v;
}

}  // namespace fast_shift

template<size_t BitsY, size_t BitsA, size_t BitsB>
CXXRTL_ALWAYS_INLINE cxxrtl::value<BitsY> fast_shl_uu(const cxxrtl::value<BitsA> &a,
                                                      const cxxrtl::value<BitsB> &b) {
	if constexpr (BitsY <= 128 && BitsA <= 128 && BitsB <= 64) {
		using T = fast_shift::word_t<(BitsY > BitsA ? BitsY : BitsA)>;
		uint64_t s = fast_shift::get<uint64_t>(b);
		if (s >= BitsY) return cxxrtl::value<BitsY>();
		return fast_shift::put<BitsY>(fast_shift::get<T>(a) << s);
	} else {
		return cxxrtl_yosys::shl_uu<BitsY>(a, b);
	}
}

template<size_t BitsY, size_t BitsA, size_t BitsB>
CXXRTL_ALWAYS_INLINE cxxrtl::value<BitsY> fast_shr_uu(const cxxrtl::value<BitsA> &a,
                                                      const cxxrtl::value<BitsB> &b) {
	if constexpr (BitsY <= 128 && BitsA <= 128 && BitsB <= 64) {
		using T = fast_shift::word_t<(BitsY > BitsA ? BitsY : BitsA)>;
		uint64_t s = fast_shift::get<uint64_t>(b);
		if (s >= BitsA) return cxxrtl::value<BitsY>();
		return fast_shift::put<BitsY>(fast_shift::get<T>(a) >> s);
	} else {
		return cxxrtl_yosys::shr_uu<BitsY>(a, b);
	}
}

#include "model.cc"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

namespace {

using cxxrtl::chunk_t;
using cxxrtl::debug_item;

constexpr unsigned SECTOR_WORDS = 64;
constexpr uint64_t SECTOR_BYTES = 512;
constexpr uint64_t ALL_ONES = ~uint64_t(0);

typedef unsigned __int128 u128;

// A view of a signal of up to 128 bits.  Yosys may split a register into several
// debug items (parts), each covering bits [lsb, lsb + width).
struct Port {
	struct Part {
		chunk_t *curr, *next;
		size_t lsb, width;
	};
	std::vector<Part> parts;
	size_t width = 0;
	// A signal of at most 32 bits in one part: its chunk (bind sets it), read by
	// get() with one load; the loop reads ten such ports in every cycle.
	const chunk_t *word = nullptr;
	// A port that the loop samples at the edge and that holds a register the model
	// writes straight into its current value (sim/cxxrtl/build.py
	// edit_direct_registers): after the evaluation it would show the value after the
	// edge, so the loop takes its value before the evaluation (snapshot()) and get()
	// returns that (Sim::collect_early).
	bool early = false;
	u128 snap = 0;

	static u128 read_part(const Part &p) {
		u128 v = 0;
		for (size_t c = 0; c * 32 < p.width; c++) v |= u128(p.curr[c]) << (32 * c);
		if (p.width < 128) v &= (u128(1) << p.width) - 1;
		return v;
	}
	static void write_part(Part &p, u128 v) {
		for (size_t c = 0; c * 32 < p.width; c++) {
			chunk_t mask = (p.width - 32 * c >= 32) ? ~chunk_t(0) : ((chunk_t(1) << (p.width - 32 * c)) - 1);
			p.curr[c] = chunk_t(v >> (32 * c)) & mask;
			if (p.next && p.next != p.curr) p.next[c] = p.curr[c];
		}
	}
	u128 get128() const {
		if (early) return snap;
		return read();
	}
	u128 read() const {
		if (parts.size() == 1 && parts[0].lsb == 0) return read_part(parts[0]);
		u128 v = 0;
		for (const Part &p : parts) v |= read_part(p) << p.lsb;
		return v;
	}
	uint64_t get() const {
		if (word) return *word;
		return uint64_t(get128());
	}
	uint64_t get_hi() const { return uint64_t(get128() >> 64); }
	void snapshot() { snap = read(); }
	void set(u128 v) {
		for (Part &p : parts) write_part(p, v >> p.lsb);
	}
};

// A narrow signal read in every cycle (the benchmark counters' inputs): each part at
// most one chunk wide, so reading it is a load, a shift and an OR per part (CXXRTL
// keeps the bits above a value's width zero), without Port::get's 128-bit assembly.
struct Bits {
	static constexpr unsigned MAX_PARTS = 16;
	const chunk_t *chunk[MAX_PARTS];
	unsigned lsb[MAX_PARTS];
	unsigned n = 0;

	bool of(const Port &p) {
		if (p.early || p.parts.size() > MAX_PARTS || p.width > 64) return false;
		n = 0;
		for (const Port::Part &q : p.parts) {
			if (q.width > 32) return false;
			chunk[n] = q.curr;
			lsb[n++] = q.lsb;
		}
		return true;
	}
	uint64_t get() const {
		uint64_t v = 0;
		for (unsigned i = 0; i < n; i++) v |= uint64_t(*chunk[i]) << lsb[i];
		return v;
	}
};

constexpr unsigned MAX_EVENTS = 16;

enum StorageState { ST_IDLE, ST_WDATA, ST_RDATA, ST_RESP };

enum RunFlags { RUN_STOP_ON_TX = 1, RUN_SKIP_WFI = 2, RUN_LOG = 4, RUN_TAKE_AHEAD = 8 };

enum StopReason { STOP_LIMIT = 0, STOP_TX = 1, STOP_TOHOST = 2, STOP_RECORDS = 3 };

constexpr uint64_t PRIV_U = 0;

}  // namespace


// Interrupt storms (sim/boot.py reports them): how often each PLIC source has been
// claimed since the core last retired a user-mode instruction.  A claim is a source's
// bit of the PLIC's in-service register going from 0 to 1.  `streak` is the highest of
// those counts and `source` the source that reached it first; a user-mode instruction
// sets everything back to 0.  (The same in sim/engine.py: _PyClaimWatch.)
struct ClaimWatch {
	uint64_t counts[32] = {};
	uint64_t in_service = 0;       // at the previous edge
	uint64_t source = 0, streak = 0;

	void sample(uint64_t now) {
		uint64_t claimed = now & ~in_service;
		in_service = now;
		for (unsigned i = 0; claimed; i++, claimed >>= 1) {
			if ((claimed & 1) && ++counts[i] > streak) {
				streak = counts[i];
				source = i;
			}
		}
	}
	void user_retired() {
		if (streak) *this = ClaimWatch{{}, in_service, 0, 0};
	}
};


// A log of one observation port (sim/engine.py run_retire): in every cycle of a run
// with RUN_LOG whose edge shows `valid` high, a row [cycle, extra..., columns...] is
// queued, the columns sampled at the edge like the output ports.  The retire log has
// no extra word; the DMA log and the A/D log have one, the retire `order` before
// which the write landed (see Sim::run).  The A/D log takes only the MMU events whose
// first column (the kind) is `only` (AD_WRITE).  Python names the signals
// (sim_log_arm) and drains the rows in batches (sim_log_take).
struct Log {
	Port valid;
	std::vector<Port> cols;
	unsigned extra = 0;
	uint64_t only = ~uint64_t(0);       // the first column's value a row needs (all: ~0)
	std::vector<uint64_t> out;

	bool wants() const {
		return valid.get() && (only == ~uint64_t(0) || cols[0].get() == only);
	}

	size_t row_words() const { return 1 + extra + cols.size(); }
	uint64_t rows() const { return out.size() / row_words(); }
	bool armed() const { return !valid.parts.empty(); }

	void sample(uint64_t cycle, const uint64_t *x) {
		out.push_back(cycle);
		out.insert(out.end(), x, x + extra);
		for (const Port &c : cols) out.push_back(c.get());
	}
	// A row of what the port's flip-flops hold now, after a commit: what the next
	// edge would show (Sim::take_ahead; no extra word).
	void sample_ahead(uint64_t cycle) {
		out.push_back(cycle);
		for (const Port &c : cols) out.push_back(uint64_t(c.read()));
	}
};


// Waveform capture for sim/wave (armed with sim_wave_arm, otherwise never touched
// by the cycle loop).  Every cycle the chosen columns are sampled at the edge, like
// the output ports.  The last `before` rows wait in a ring; a trigger opens a
// window (the ring, then the trigger row); the window stays open until `after`
// cycles past its last trigger.  Trigger: the MMU event port reports WALK_DONE, or
// WALK_FAULT on a leaf (R or X set), with PTE bit 8 (PTE_S) set.  After
// `max_windows` windows the capture disarms itself.  Finished rows are queued as
// [window number, cycle, column values...] for sim_wave_take.  Columns named with a
// leading '~' (`late`: a port one cycle late, the MMU's event port mmu_events of
// either core) show at edge t+1 what the design did by edge t: a row of edge t takes
// them, and the trigger, from edge t+1, so that rows read as with a combinational port.
struct WaveCapture {
	static constexpr uint64_t KIND_WALK_DONE = 6, KIND_WALK_FAULT = 7;
	static constexpr uint64_t PTE_LEAF_BITS = 0xa, PTE_SHARED = 0x100;
	Port ev_valid, ev_kind, ev_pte;
	std::vector<Port> cols;
	uint64_t before = 0, after = 0, max_windows = 0;
	std::vector<uint64_t> ring;      // `before` rows of (cycle, values)
	uint64_t ring_next = 0, ring_used = 0;
	bool open = false;
	uint64_t close_at = 0, windows = 0, triggers = 0;
	std::vector<uint64_t> row, out;
	std::vector<bool> late;          // per column
	bool any_late = false, have_prev = false;
	std::vector<uint64_t> prev;      // the previous edge's (cycle, values) with any_late

	size_t row_words() const { return cols.size() + 1; }

	void emit(const uint64_t *r) {
		out.push_back(windows - 1);
		out.insert(out.end(), r, r + row_words());
	}

	// Sample one edge; returns false once the capture has finished.
	bool sample(uint64_t cycle) {
		size_t n = row_words();
		row[0] = cycle;
		for (size_t i = 0; i < cols.size(); i++) row[i + 1] = cols[i].get();
		if (any_late) {
			// this edge completes the previous edge's row
			bool first = !have_prev;
			have_prev = true;
			for (size_t i = 0; i <= cols.size(); i++) {
				bool now = i > 0 && late[i - 1];
				uint64_t v = row[i];
				if (!now) row[i] = prev[i];
				prev[i] = v;
			}
			if (first) return true;
			cycle = row[0];
		}
		bool hit = false;
		if (ev_valid.get() && (ev_pte.get() & PTE_SHARED)) {
			uint64_t kind = ev_kind.get();
			hit = kind == KIND_WALK_DONE ||
			      (kind == KIND_WALK_FAULT && (ev_pte.get() & PTE_LEAF_BITS));
		}
		if (hit) triggers++;
		if (!open && hit && windows < max_windows) {
			open = true;
			windows++;
			for (uint64_t k = 0; k < ring_used; k++) {
				uint64_t slot = (ring_next + before - ring_used + k) % before;
				emit(&ring[slot * n]);
			}
			ring_used = 0;
		}
		if (open) {
			emit(row.data());
			if (hit) close_at = cycle + after;
			if (cycle >= close_at) {
				open = false;
				if (windows >= max_windows) return false;
			}
		} else if (before) {
			std::copy(row.begin(), row.end(), ring.begin() + ring_next * n);
			ring_next = (ring_next + 1) % before;
			if (ring_used < before) ring_used++;
		}
		return true;
	}
};

struct Sim {
	cxxrtl_design::p_soc top;
	cxxrtl::debug_items items;
	std::string error;

	Port uart_tx_valid, uart_tx_payload, uart_tx_ready;
	Port uart_rx_valid, uart_rx_payload, uart_rx_ready;
	Port cmd_valid, cmd_payload, cmd_ready;
	Port wdata_valid, wdata_payload, wdata_ready;
	Port rdata_valid, rdata_payload, rdata_ready;
	Port resp_valid, resp_payload, resp_ready;
	Port capacity;
	Port retire_valid, retire_trap, retire_priv;
	Port plic_in_service;
	Port wfi, mtime, mtimecmp, stimecmp;

	// The pipelined core's benchmark counters (hw/core/perf.py): the model keeps
	// no counters (sim/cxxrtl/build.py, PERF_PORTS); the loop counts what the core
	// shows at each edge, the cycle's class (class_counts) and the word of event bits
	// (event_words: how many edges showed each word; sim_perf adds up each bit's
	// count from it, so the loop does one increment and no loop over the bits).
	// Unbound (a core without them): never read.
	Bits perf_class, perf_events;
	bool perf_on = false;
	uint64_t class_counts[32] = {};
	std::vector<uint64_t> event_words;

	chunk_t *ram = nullptr;       // row r = chunks [2r, 2r+1]
	uint64_t ram_rows = 0;
	uint64_t ram_base = 0x80000000u;

	std::vector<uint8_t> disk;
	std::deque<uint8_t> rx_queue;
	std::vector<uint8_t> tx_out;

	// storage port state
	StorageState st = ST_IDLE;
	bool st_write = false, st_bad = false;
	uint64_t st_sector = 0;
	unsigned st_k = 0;
	uint64_t st_words[SECTOR_WORDS];

	uint64_t tohost_row = ALL_ONES;

	// statistics
	uint64_t cycles = 0, instret = 0, traps = 0, tohost_value = 0;
	uint64_t wfi_skips = 0, skipped_ticks = 0, sectors_read = 0, sectors_written = 0;
	uint64_t user_instret = 0;
	ClaimWatch claims;

	// waveform capture (sim/wave); the loop samples only while wave_armed
	WaveCapture wave;
	bool wave_armed = false;

	// retire reports and DMA writes; sampled only in runs with RUN_LOG
	Log retire_log, dma_log, ad_log;
	// the next edge shows the report a run that ended at tohost took already
	bool ahead = false;

	// The storage of the registers the model writes straight into their current
	// value (edit_direct_registers), sorted; and the ports the loop samples at the
	// edge that hold one of them, whose values it takes before each evaluation.
	std::vector<const chunk_t *> direct;
	std::vector<Port *> early_ports;

	void mark_early(Port &p) {
		p.early = false;
		for (const Port::Part &q : p.parts)
			if (std::binary_search(direct.begin(), direct.end(), (const chunk_t *)q.curr))
				p.early = true;
		if (p.early) {
			p.word = nullptr;
			early_ports.push_back(&p);
		}
	}
	// Called whenever the sampled ports change (init, the logs' and the waveform's
	// arming).  mtime, mtimecmp and stimecmp are read after the commit (skip_idle)
	// and are not sampled at the edge.
	void collect_early() {
		early_ports.clear();
		for (Port *p : {&uart_tx_valid, &uart_tx_payload, &uart_tx_ready, &uart_rx_valid,
		                &uart_rx_payload, &uart_rx_ready, &cmd_valid, &cmd_payload,
		                &cmd_ready, &wdata_valid, &wdata_payload, &wdata_ready,
		                &rdata_valid, &rdata_payload, &rdata_ready, &resp_valid,
		                &resp_payload, &resp_ready, &retire_valid, &retire_trap,
		                &retire_priv, &plic_in_service, &wfi})
			mark_early(*p);
		for (Log *log : {&retire_log, &dma_log, &ad_log}) {
			mark_early(log->valid);
			for (Port &c : log->cols) mark_early(c);
		}
		mark_early(wave.ev_valid);
		mark_early(wave.ev_kind);
		mark_early(wave.ev_pte);
		for (Port &c : wave.cols) mark_early(c);
	}

	bool bind(Port &p, const char *name) {
		if (items.count(name) == 0) {
			error = std::string("the model has no signal '") + name + "'";
			return false;
		}
		p.parts.clear();
		p.width = 0;
		p.word = nullptr;
		for (const debug_item &it : items.at(name)) {
			if (it.type != debug_item::VALUE && it.type != debug_item::WIRE) {
				error = std::string("signal '") + name + "' is not a value or wire in the model";
				return false;
			}
			p.parts.push_back(Port::Part{it.curr, it.next, it.lsb_at, it.width});
			if (it.lsb_at + it.width > p.width) p.width = it.lsb_at + it.width;
		}
		if (p.width > 128) {
			error = std::string("signal '") + name + "' is wider than 128 bits";
			return false;
		}
		p.word = p.parts.size() == 1 && p.parts[0].lsb == 0 && p.width <= 32 ? p.parts[0].curr : nullptr;
		return true;
	}

	// Bind a signal of at most 64 bits by name, leaving `error` alone (for lookups
	// whose failure the caller reports itself).
	bool bind_quiet(Port &p, const char *name) {
		std::string saved = error;
		bool ok = bind(p, name) && p.width <= 64;
		error = saved;
		return ok;
	}

	bool init() {
		top.debug_info(&items, nullptr, "");
		top.direct_registers(direct);
		std::sort(direct.begin(), direct.end());
		// Without a storage port (the SD card model serves the block device) its
		// ports stay unbound: they read as 0 and ignore writes, so the disk model idles.
		bool storage = items.count("storage__cmd__valid") != 0;
		bool ok = bind(uart_tx_valid, "uart_tx__valid") && bind(uart_tx_payload, "uart_tx__payload") &&
			bind(uart_tx_ready, "uart_tx__ready") && bind(uart_rx_valid, "uart_rx__valid") &&
			bind(uart_rx_payload, "uart_rx__payload") && bind(uart_rx_ready, "uart_rx__ready") &&
			(!storage || (
			bind(cmd_valid, "storage__cmd__valid") && bind(cmd_payload, "storage__cmd__payload") &&
			bind(cmd_ready, "storage__cmd__ready") &&
			bind(wdata_valid, "storage__wdata__valid") && bind(wdata_payload, "storage__wdata__payload") &&
			bind(wdata_ready, "storage__wdata__ready") &&
			bind(rdata_valid, "storage__rdata__valid") && bind(rdata_payload, "storage__rdata__payload") &&
			bind(rdata_ready, "storage__rdata__ready") &&
			bind(resp_valid, "storage__resp__valid") && bind(resp_payload, "storage__resp__payload") &&
			bind(resp_ready, "storage__resp__ready") && bind(capacity, "storage__capacity"))) &&
			bind(retire_valid, "retire__valid") && bind(retire_trap, "retire__trap") &&
			bind(retire_priv, "retire__priv") && bind(plic_in_service, "plic in_service") &&
			bind(wfi, "wfi") && bind(mtime, "clint mtime_reg") && bind(mtimecmp, "clint mtimecmp_reg") &&
			bind(stimecmp, "core csr stimecmp");
		if (!ok) return false;
		// Main memory: the block RAM, or the SDRAM chip model of a board configuration
		// (both are byte images of the RAM in 64-bit rows).
		const char *ram_name = items.count("ram mem") ? "ram mem" : "sdram_chip mem";
		if (items.count(ram_name) != 1 || items[ram_name].type != debug_item::MEMORY ||
		    items[ram_name].width != 64) {
			error = "the model has no 64-bit memory 'ram mem' or 'sdram_chip mem'";
			return false;
		}
		Port cls, ev;
		perf_on = bind_quiet(cls, "core perf_class") && cls.width <= 5 && perf_class.of(cls) &&
			bind_quiet(ev, "core perf_events") && ev.width <= MAX_EVENTS && perf_events.of(ev);
		if (perf_on) event_words.assign(size_t(1) << ev.width, 0);
		ram = items[ram_name].curr;
		ram_rows = items[ram_name].depth;
		collect_early();
		uart_tx_ready.set(1);
		uart_rx_valid.set(0);
		uart_rx_payload.set(0);
		drive_storage();
		return true;
	}

	uint64_t ram_row(uint64_t r) const { return uint64_t(ram[2 * r]) | (uint64_t(ram[2 * r + 1]) << 32); }
	void set_ram_row(uint64_t r, uint64_t v) { ram[2 * r] = chunk_t(v); ram[2 * r + 1] = chunk_t(v >> 32); }

	uint64_t disk_word(uint64_t sector, unsigned k) const {
		uint64_t v = 0;
		const uint8_t *p = &disk[sector * SECTOR_BYTES + 8 * k];
		for (int b = 7; b >= 0; b--) v = (v << 8) | p[b];
		return v;
	}

	// Drive the storage port's inputs from the model's state.
	void drive_storage() {
		cmd_ready.set(st == ST_IDLE);
		wdata_ready.set(st == ST_WDATA);
		rdata_valid.set(st == ST_RDATA);
		rdata_payload.set(st == ST_RDATA && !st_bad ? disk_word(st_sector, st_k) : 0);
		resp_valid.set(st == ST_RESP);
		resp_payload.set(st == ST_RESP ? uint64_t(st_bad) : 0);
		capacity.set(disk.size() / SECTOR_BYTES);
	}

	// Offer the head of the receive queue to the UART (called after a clock edge,
	// so that bytes pushed between run() calls reach the design at a defined edge).
	bool rx_offered = false;
	uint8_t rx_offered_byte = 0;
	void drive_rx() {
		bool offer = !rx_queue.empty();
		uint8_t byte = offer ? rx_queue.front() : 0;
		if (offer != rx_offered || byte != rx_offered_byte) {
			uart_rx_valid.set(offer);
			uart_rx_payload.set(byte);
			rx_offered = offer;
			rx_offered_byte = byte;
		}
	}

	// Run up to max_cycles cycles; with RUN_LOG also stop once the retire log holds
	// max_records rows (0: no such limit).
	int run(uint64_t max_cycles, int flags, uint64_t max_records) {
		bool logging = (flags & RUN_LOG) && retire_log.armed() && dma_log.armed();
		for (uint64_t n = 0; n < max_cycles; n++) {
			// Rising edge.  The edge's evaluation computes the combinational logic
			// from the state before the edge and the inputs driven since: the output
			// ports hold what the design shows at this edge, so they are sampled
			// right after it, before the commit.  An evaluation that settled is
			// committed by commit_plain() (the same state as commit(), without
			// finding out whether anything changed: sim/cxxrtl/build.py); otherwise
			// the loop of cxxrtl::module::step() settles any buffered wires.
			for (Port *p : early_ports) p->snapshot();
			top.p_clk.set(true);
			bool converged = top.eval();
			bool tx_fire = uart_tx_valid.get() != 0;
			uint8_t tx_byte = uint8_t(uart_tx_payload.get());
			bool rx_fire = uart_rx_valid.get() && uart_rx_ready.get();
			// the storage port's payloads (a 128-bit command is gathered from its
			// parts) are read only in the cycle they are taken
			bool cmd_fire = st == ST_IDLE && cmd_valid.get();
			uint64_t cmd_lo = cmd_fire ? cmd_payload.get() : 0;
			uint64_t cmd_hi = cmd_fire ? cmd_payload.get_hi() : 0;
			bool wdata_fire = st == ST_WDATA && wdata_valid.get();
			uint64_t wword = wdata_fire ? wdata_payload.get() : 0;
			bool rdata_fire = st == ST_RDATA && rdata_ready.get();
			bool resp_fire = st == ST_RESP && resp_ready.get();
			bool skip = ahead;      // that report is counted and logged already
			ahead = false;
			bool retired = !skip && retire_valid.get() != 0;
			bool trapped = retire_trap.get() != 0;
			bool user = retired && retire_priv.get() == PRIV_U;
			uint64_t in_service = plic_in_service.get();
			bool sleeping = wfi.get() != 0;
			if (perf_on) {
				class_counts[perf_class.get()]++;
				event_words[perf_events.get()]++;
			}
			if (wave_armed) wave_armed = wave.sample(cycles);
			if (logging) {
				if (retired) retire_log.sample(cycles, nullptr);
				// The order of the next report after this edge: a write landed
				// after the instructions reported so far (this edge included;
				// their bus accesses are over) and before that one.
				uint64_t order = instret + traps + (retired ? 1 : 0);
				if (dma_log.valid.get()) dma_log.sample(cycles, &order);
				if (ad_log.wants()) ad_log.sample(cycles, &order);
			}
			if (converged)
				top.commit_plain();
			else
				while (top.commit() && !converged)
					converged = top.eval();
			top.p_clk.set(false);
			top.prev_p_clk.set(false);
			cycles++;

			if (retired) {
				if (trapped) {
					traps++;
				} else {
					instret++;
					if (user) {
						user_instret++;
						claims.user_retired();
					}
				}
			}
			claims.sample(in_service);
			bool stop_tx = false;
			if (tx_fire) {
				tx_out.push_back(tx_byte);
				stop_tx = (flags & RUN_STOP_ON_TX) != 0;
			}
			if (rx_fire)
				rx_queue.pop_front();
			drive_rx();
			if (cmd_fire || wdata_fire || rdata_fire || resp_fire) {
				step_storage(cmd_fire, cmd_lo, cmd_hi, wdata_fire, wword, rdata_fire, resp_fire);
				drive_storage();
			}
			if ((flags & RUN_SKIP_WFI) && sleeping)
				skip_idle();
			if (tohost_row != ALL_ONES) {
				uint64_t v = ram_row(tohost_row);
				if (v) {
					tohost_value = v;
					if (flags & RUN_TAKE_AHEAD) take_ahead(logging);
					return STOP_TOHOST;
				}
			}
			if (stop_tx) return STOP_TX;
			if (logging && max_records && retire_log.rows() >= max_records) return STOP_RECORDS;
		}
		return STOP_LIMIT;
	}

	// RUN_TAKE_AHEAD (the pipelined core, whose retire port is registered: what W
	// retires at an edge, the port shows at the next one): a run that ends at tohost
	// ends with what the core retired by its last edge, so it counts (and logs) the
	// report that the port's flip-flops hold after that edge, as the edge that would
	// show it; a later run skips that report.
	void take_ahead(bool logging) {
		// The ports are wires the evaluation computes from the registers: evaluate
		// once more without an edge (the clock is low) so that they show the
		// registers' values after the last edge.
		bool converged = top.eval();
		if (converged)
			top.commit_plain();
		else
			while (top.commit() && !converged)
				converged = top.eval();
		if (!retire_valid.read()) return;
		ahead = true;
		if (retire_trap.read()) {
			traps++;
		} else {
			instret++;
			if (retire_priv.read() == PRIV_U) {
				user_instret++;
				claims.user_retired();
			}
		}
		if (logging) retire_log.sample_ahead(cycles);
	}

	void step_storage(bool cmd_fire, uint64_t cmd_lo, uint64_t cmd_hi, bool wdata_fire,
	                  uint64_t wword, bool rdata_fire, bool resp_fire) {
		uint64_t nsectors = disk.size() / SECTOR_BYTES;
		if (cmd_fire) {
			// StorageCommand: bit 0 write, bits 1..64 sector
			st_write = cmd_lo & 1;
			st_sector = (cmd_lo >> 1) | (cmd_hi << 63);
			st_bad = st_sector >= nsectors;
			st_k = 0;
			st = st_write ? ST_WDATA : ST_RDATA;
		} else if (wdata_fire) {
			st_words[st_k++] = wword;
			if (st_k == SECTOR_WORDS) {
				if (!st_bad) {
					uint8_t *p = &disk[st_sector * SECTOR_BYTES];
					for (unsigned k = 0; k < SECTOR_WORDS; k++)
						for (unsigned b = 0; b < 8; b++)
							p[8 * k + b] = uint8_t(st_words[k] >> (8 * b));
					sectors_written++;
				}
				st = ST_RESP;
			}
		} else if (rdata_fire) {
			if (++st_k == SECTOR_WORDS) {
				if (!st_bad) sectors_read++;
				st = ST_RESP;
			}
		} else if (resp_fire) {
			st = ST_IDLE;
		}
	}

	// The core sleeps in wfi: jump mtime to one tick before the earliest timer
	// compare (CLINT mtimecmp or Sstc stimecmp), so idle time costs no cycles.
	void skip_idle() {
		uint64_t now = mtime.get();
		uint64_t target = mtimecmp.get();
		uint64_t s = stimecmp.get();
		if (s < target) target = s;
		if (target != ALL_ONES && target > now + 1) {
			mtime.set(target - 1);
			wfi_skips++;
			skipped_ticks += target - 1 - now;
		}
	}
};

// Copy a message into the caller's buffer of errlen bytes.
static void set_error(char *err, size_t errlen, const std::string &msg) {
	if (errlen) {
		strncpy(err, msg.c_str(), errlen - 1);
		err[errlen - 1] = 0;
	}
}

// The non-empty lines of a '\n'-separated list of signal names.
static std::vector<std::string> split_names(const char *names) {
	std::vector<std::string> out;
	std::string all(names);
	size_t pos = 0;
	while (pos < all.size()) {
		size_t end = all.find('\n', pos);
		if (end == std::string::npos) end = all.size();
		if (end > pos) out.push_back(all.substr(pos, end - pos));
		pos = end + 1;
	}
	return out;
}

extern "C" {

Sim *sim_new(char *err, size_t errlen) {
	Sim *s = new Sim;
	if (!s->init()) {
		set_error(err, errlen, s->error);
		delete s;
		return nullptr;
	}
	return s;
}

void sim_free(Sim *s) { delete s; }

uint64_t sim_ram_size(Sim *s) { return s->ram_rows * 8; }

// Copy bytes into (write=1) or out of (write=0) RAM at a physical address.
int sim_ram_access(Sim *s, uint64_t paddr, uint8_t *buf, uint64_t len, int write) {
	uint64_t size = s->ram_rows * 8;
	if (paddr < s->ram_base || paddr - s->ram_base > size || len > size - (paddr - s->ram_base))
		return -1;
	uint64_t off = paddr - s->ram_base;
	for (uint64_t i = 0; i < len; i++) {
		uint64_t a = off + i, row = a / 8;
		unsigned sh = 8 * (a % 8);
		uint64_t v = s->ram_row(row);
		if (write) {
			v = (v & ~(uint64_t(0xff) << sh)) | (uint64_t(buf[i]) << sh);
			s->set_ram_row(row, v);
		} else {
			buf[i] = uint8_t(v >> sh);
		}
	}
	return 0;
}

// Copy bytes into (write=1) or out of (write=0) the 64-bit wide memory with debug name
// `name` (e.g. "card mem", the SD card model's contents), from byte `offset` (byte k
// of a row is bits 8k..8k+7).  Returns 0, or -1 if there is no such memory or the
// range lies outside it.
int sim_mem_access(Sim *s, const char *name, uint64_t offset, uint8_t *buf, uint64_t len,
                   int write) {
	if (s->items.count(name) != 1) return -1;
	const debug_item &mem = s->items[name];
	if (mem.type != debug_item::MEMORY || mem.width != 64) return -1;
	uint64_t size = uint64_t(mem.depth) * 8;
	if (offset > size || len > size - offset) return -1;
	for (uint64_t i = 0; i < len; i++) {
		uint64_t a = offset + i;
		chunk_t &c = mem.curr[2 * (a / 8) + (a % 8) / 4];
		unsigned sh = 8 * (a % 4);
		if (write)
			c = (c & ~(chunk_t(0xff) << sh)) | (chunk_t(buf[i]) << sh);
		else
			buf[i] = uint8_t(c >> sh);
	}
	return 0;
}

// Read (sim_peek) or drive (sim_poke: top-level inputs) a signal of at most 64 bits by
// debug name.  Return 0, or -1 if there is no such signal.
int sim_peek(Sim *s, const char *name, uint64_t *value) {
	Port p;
	if (!s->bind_quiet(p, name)) return -1;
	*value = p.get();
	return 0;
}

// The benchmark counters (Sim::perf_class): n_classes cycle-class counts and n_events
// event counts, each as its 48-bit counter in the design would read.  Return 0, or -1
// if the model has no such counters.
int sim_perf(Sim *s, uint64_t *classes, uint64_t n_classes, uint64_t *events, uint64_t n_events) {
	if (!s->perf_on || n_classes > 32 || n_events > MAX_EVENTS) return -1;
	constexpr uint64_t MASK48 = (uint64_t(1) << 48) - 1;
	for (uint64_t i = 0; i < n_classes; i++) classes[i] = s->class_counts[i] & MASK48;
	uint64_t counts[MAX_EVENTS] = {};
	for (uint64_t word = 0; word < s->event_words.size(); word++)
		for (unsigned i = 0; i < MAX_EVENTS; i++)
			if (word >> i & 1) counts[i] += s->event_words[word];
	for (uint64_t i = 0; i < n_events; i++) events[i] = counts[i] & MASK48;
	return 0;
}

int sim_poke(Sim *s, const char *name, uint64_t value) {
	Port p;
	if (!s->bind_quiet(p, name)) return -1;
	p.set(value);
	return 0;
}

void sim_set_disk(Sim *s, const uint8_t *data, uint64_t len) {
	s->disk.assign(data, data + len);
	s->drive_storage();
}

uint64_t sim_disk_size(Sim *s) { return s->disk.size(); }

void sim_get_disk(Sim *s, uint8_t *out) { memcpy(out, s->disk.data(), s->disk.size()); }

void sim_rx_push(Sim *s, const uint8_t *data, uint64_t len) {
	s->rx_queue.insert(s->rx_queue.end(), data, data + len);
}

uint64_t sim_rx_pending(Sim *s) { return s->rx_queue.size(); }

uint64_t sim_tx_take(Sim *s, uint8_t *out, uint64_t max) {
	uint64_t n = s->tx_out.size() < max ? s->tx_out.size() : max;
	memcpy(out, s->tx_out.data(), n);
	s->tx_out.erase(s->tx_out.begin(), s->tx_out.begin() + n);
	return n;
}

// Watch the RAM doubleword at paddr (8-aligned); a non-zero value stops run().
int sim_set_tohost(Sim *s, uint64_t paddr) {
	if (paddr < s->ram_base || (paddr - s->ram_base) / 8 >= s->ram_rows) return -1;
	s->tohost_row = (paddr - s->ram_base) / 8;
	return 0;
}

int sim_run(Sim *s, uint64_t max_cycles, int flags, uint64_t max_records) {
	return s->run(max_cycles, flags, max_records);
}

// cycles, instret, traps, tohost value, wfi skips, skipped mtime ticks,
// sectors read, sectors written, current mtime, user-mode instructions retired,
// the claim watch's source and streak
void sim_stats(Sim *s, uint64_t *out) {
	out[0] = s->cycles;
	out[1] = s->instret;
	out[2] = s->traps;
	out[3] = s->tohost_value;
	out[4] = s->wfi_skips;
	out[5] = s->skipped_ticks;
	out[6] = s->sectors_read;
	out[7] = s->sectors_written;
	out[8] = s->mtime.get();
	out[9] = s->user_instret;
	out[10] = s->claims.source;
	out[11] = s->claims.streak;
}

// --- logs of retire reports, DMA writes and A/D writes (sim/engine.py run_retire) ---

// Bind a log: `names` are '\n'-separated debug names, the first the trigger (`valid`)
// and the others the columns.  Queued rows are dropped.  0, or -1 with the reason.
static int log_arm(Sim *s, Log &log, unsigned extra, const char *names, char *err,
                   size_t errlen) {
	log = Log();
	std::vector<Port> ports;
	for (const std::string &name : split_names(names)) {
		ports.emplace_back();
		if (!s->bind(ports.back(), name.c_str()) || ports.back().width > 64) {
			set_error(err, errlen, "cannot log '" + name + "'");
			return -1;
		}
	}
	if (ports.empty()) {
		set_error(err, errlen, "no signals to log");
		return -1;
	}
	log.valid = ports[0];
	log.cols.assign(ports.begin() + 1, ports.end());
	log.extra = extra;
	return 0;
}

// Arm the three logs (the DMA and A/D logs' rows carry the retire order as their
// extra word; the A/D log keeps the MMU events of kind `ad_kind`).
int sim_log_arm(Sim *s, const char *retire_names, const char *dma_names,
                const char *ad_names, uint64_t ad_kind, char *err, size_t errlen) {
	if (log_arm(s, s->retire_log, 0, retire_names, err, errlen) != 0 ||
	    log_arm(s, s->dma_log, 1, dma_names, err, errlen) != 0 ||
	    log_arm(s, s->ad_log, 1, ad_names, err, errlen) != 0) {
		s->retire_log = s->dma_log = s->ad_log = Log();
		s->collect_early();
		return -1;
	}
	s->ad_log.only = ad_kind;
	s->collect_early();
	return 0;
}

// Move up to max_words words of queued rows (whole rows only) of log `which` (0 retire,
// 1 DMA, 2 A/D) into buf; returns how many were copied.
uint64_t sim_log_take(Sim *s, int which, uint64_t *buf, uint64_t max_words) {
	Log &log = which == 2 ? s->ad_log : which ? s->dma_log : s->retire_log;
	uint64_t n = std::min<uint64_t>(log.out.size(), max_words / log.row_words() * log.row_words());
	std::copy(log.out.begin(), log.out.begin() + n, buf);
	log.out.erase(log.out.begin(), log.out.begin() + n);
	return n;
}

// --- waveform capture (sim/wave) ---

// Width of a signal of the model, by debug name; 0 if there is none or it is wider
// than 64 bits.
int sim_wave_signal_width(Sim *s, const char *name) {
	Port p;
	return s->bind_quiet(p, name) ? int(p.width) : 0;
}

// Arm the capture: `names` are '\n'-separated debug names of the columns.  Any
// earlier capture and its queued rows are dropped.  Returns 0, or -1 with the
// reason in err.
int sim_wave_arm(Sim *s, const char *names, uint64_t before, uint64_t after,
                 uint64_t max_windows, char *err, size_t errlen) {
	WaveCapture &w = s->wave;
	w = WaveCapture();
	s->wave_armed = false;
	std::string problem;
	for (std::string name : split_names(names)) {
		w.cols.emplace_back();
		bool late = !name.empty() && name[0] == '~';
		if (late) name.erase(0, 1);
		w.late.push_back(late);
		w.any_late = w.any_late || late;
		if (!s->bind(w.cols.back(), name.c_str()) || w.cols.back().width > 64) {
			problem = "cannot sample '" + name + "'";
			break;
		}
	}
	if (problem.empty() && !(s->bind(w.ev_valid, "mmu_events__valid") &&
	                         s->bind(w.ev_kind, "mmu_events__kind") &&
	                         s->bind(w.ev_pte, "mmu_events__pte")))
		problem = s->error;
	if (!problem.empty()) {
		set_error(err, errlen, problem);
		w = WaveCapture();
		s->collect_early();
		return -1;
	}
	w.before = before;
	w.after = after;
	w.max_windows = max_windows;
	w.row.assign(w.row_words(), 0);
	w.prev.assign(w.row_words(), 0);
	w.ring.assign(before * w.row_words(), 0);
	s->wave_armed = max_windows > 0;
	s->collect_early();
	return 0;
}

// Move up to max_words words of finished rows (whole rows only) into buf; returns
// how many were copied.
uint64_t sim_wave_take(Sim *s, uint64_t *buf, uint64_t max_words) {
	WaveCapture &w = s->wave;
	uint64_t per_row = w.row_words() + 1;
	uint64_t n = std::min<uint64_t>(w.out.size(), max_words / per_row * per_row);
	std::copy(w.out.begin(), w.out.begin() + n, buf);
	w.out.erase(w.out.begin(), w.out.begin() + n);
	return n;
}

// Stop sampling; an open window ends where the run stopped.
void sim_wave_stop(Sim *s) {
	s->wave_armed = false;
	s->wave.open = false;
}

// windows opened, triggers seen, still armed, a window is open, rows queued
void sim_wave_info(Sim *s, uint64_t *out) {
	const WaveCapture &w = s->wave;
	out[0] = w.windows;
	out[1] = w.triggers;
	out[2] = s->wave_armed;
	out[3] = w.open;
	out[4] = w.out.size() / (w.row_words() + 1);
}

}  // extern "C"
