// Yosys techmap for the CXXRTL build (sim/cxxrtl/build.py): a wide $reduce_or /
// $reduce_bool / $reduce_and over many single-bit signals (address decoders, legality
// checks) becomes a chain of 1-bit gates.  CXXRTL would otherwise first assemble the
// operand by concatenating every bit into one wide value on each evaluation.
// Narrow reductions (under 16 bits) are left alone (_TECHMAP_FAIL_).

(* techmap_celltype = "$reduce_or $reduce_bool $reduce_and" *)
module sim_wide_reduce (A, Y);
	parameter A_SIGNED = 0;
	parameter A_WIDTH = 1;
	parameter Y_WIDTH = 1;
	parameter _TECHMAP_CELLTYPE_ = "";

	input [A_WIDTH-1:0] A;
	output [Y_WIDTH-1:0] Y;

	wire _TECHMAP_FAIL_ = A_WIDTH < 16;
	localparam IS_AND = _TECHMAP_CELLTYPE_ == "$reduce_and";

	genvar i;
	generate
		for (i = 0; i < A_WIDTH; i = i + 1) begin : step
			wire acc;
			if (i == 0) begin
				assign acc = A[0];
			end else if (IS_AND) begin
				assign acc = step[i - 1].acc & A[i];
			end else begin
				assign acc = step[i - 1].acc | A[i];
			end
		end
	endgenerate

	assign Y = {{(Y_WIDTH - 1){1'b0}}, step[A_WIDTH - 1].acc};
endmodule
