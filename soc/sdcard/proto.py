"""SD memory cards in SPI mode: the facts the host (host.py) and the card model (model.py)
share, from the SD Physical Layer Simplified Specification (chapter 7, "SPI Mode").

Framing (all bytes travel MSB first; SPI mode 0: the clock idles low, both sides
sample on the rising edge and change on the falling edge)::

    command   0 1 index[5:0] | argument[31:0] | crc7[6:0] 1        6 bytes, host -> card
    R1        0 p a e c i r s                                     1 byte, card -> host
              (bits 6..0: parameter error, address error, erase sequence error,
               command CRC error, illegal command, erase reset, in idle state)
    R3 / R7   R1, then 32 bits: the OCR (CMD58) / voltage and check pattern (CMD8)
    data      0xFE, 512 data bytes, CRC16 (2 bytes)                read: card -> host,
                                                                   write: host -> card
    data error token  0000 oecx  (out of range, card ECC failed, CC error, error)
    data response     xxx0 sss1  (sss: 010 accepted, 101 CRC error, 110 write error),
                      then busy: 0x00 bytes until the card has written the block

Between the end of a command and its R1 the card sends 1 to 8 bytes of 0xFF (N_CR);
before a read's data token at least one (N_AC, at most the read timeout).  The card is
selected by CS low on the pins (``cs`` = 1 on our ports: amaranth-boards' ``PinsN``).

CRC: commands carry CRC7 (x^7 + x^3 + 1), data blocks CRC16-CCITT (x^16 + x^12 + x^5
+ 1), both computed MSB first from zero.  A card starts in SPI mode with CRC checking
off except for CMD0 (received while still in SD mode) and CMD8 (always checked); CMD59
turns checking on.  Our host computes CRC7 for every command and turns checking on.
"""

import enum

from amaranth import Cat, C

__all__ = [
    "CMD", "ACMD", "R1", "OCR", "TOKEN", "DATA_RESPONSE", "DATA_ERROR", "SDError",
    "CMD8_ARG", "SECTOR_BYTES", "POWER_UP_CLOCKS", "NCR_MAX",
    "crc7", "crc16", "crc_step", "command_frame",
]

SECTOR_BYTES = 512
#: The card needs at least 74 clocks with CS high after power-up before its first command.
POWER_UP_CLOCKS = 74
#: Most bytes between the end of a command and its R1 (N_CR).
NCR_MAX = 8


class CMD(enum.IntEnum):
    """Command indexes (the ones our host sends or the model answers)."""
    GO_IDLE_STATE = 0           # reset; enters SPI mode when CS is low (R1)
    SEND_IF_COND = 8            # voltage check, SD 2.0 and later (R7)
    SET_BLOCKLEN = 16           # block length of a standard-capacity card (R1)
    READ_SINGLE_BLOCK = 17      # (R1, then a data token)
    WRITE_BLOCK = 24            # (R1; the host sends a data token; data response, busy)
    APP_CMD = 55                # the next command is an application command (R1)
    READ_OCR = 58               # (R3)
    CRC_ON_OFF = 59             # argument bit 0: check CRCs (R1)


class ACMD(enum.IntEnum):
    SD_SEND_OP_COND = 41        # start/poll initialization; argument bit 30 = HCS (R1)


class R1(enum.IntFlag):
    IN_IDLE_STATE = 0x01
    ERASE_RESET = 0x02
    ILLEGAL_COMMAND = 0x04
    COM_CRC_ERROR = 0x08
    ERASE_SEQUENCE_ERROR = 0x10
    ADDRESS_ERROR = 0x20
    PARAMETER_ERROR = 0x40


class OCR(enum.IntFlag):
    #: The card finished power-up (initialization); CCS is valid only then.
    POWER_UP_DONE = 1 << 31
    #: Card capacity status: 1 = SDHC/SDXC (block addresses), 0 = SDSC (byte addresses).
    CCS = 1 << 30
    #: Supported voltage window 2.7-3.6 V (bits 15..23).
    VDD_27_36 = 0x00FF_8000


#: ACMD41's argument bit 30: the host supports high-capacity cards.
HCS = 1 << 30
#: CMD8's argument: VHS = 0001 (2.7-3.6 V) and the check pattern 0xAA; an SD 2.0 card
#: echoes both in the last 12 bits of R7.
CMD8_ARG = 0x1AA


class TOKEN(enum.IntEnum):
    START_BLOCK = 0xFE


class DATA_RESPONSE(enum.IntEnum):
    """The data response token of a write (the low 5 bits, ``xxx0sss1``)."""
    ACCEPTED = 0b00101
    CRC_ERROR = 0b01011
    WRITE_ERROR = 0b01101
    MASK = 0b11111


class DATA_ERROR(enum.IntFlag):
    """A data error token (sent instead of 0xFE when a read fails); bits 7..4 are 0."""
    ERROR = 0x01
    CC_ERROR = 0x02
    CARD_ECC_FAILED = 0x04
    OUT_OF_RANGE = 0x08


class SDError(enum.IntEnum):
    """Why the host (host.py) answered a storage command with an error.

    The code is in the host's STATUS register (bits 15:8) with the offending byte
    (bits 23:16); the boot ROM prints the message (``SDError.X.message``).
    """

    def __new__(cls, value, message):
        obj = int.__new__(cls, value)
        obj._value_ = value
        obj.message = message
        return obj

    NONE = 0, "no error"
    NO_CARD = 1, "no card: nothing answers CMD0 (is a card inserted?)"
    NOT_IDLE = 2, "the card answers CMD0 without entering the idle state"
    VOLTAGE = 3, "the card does not accept 3.3 V or echoes a wrong CMD8 pattern"
    INIT_REJECTED = 4, "the card rejects an initialization command"
    INIT_TIMEOUT = 5, "the card stays busy in ACMD41 (initialization timeout)"
    NO_RESPONSE = 6, "the card stopped answering commands (removed?)"
    CMD_REJECTED = 7, "the card rejects the read or write command (address out of range?)"
    READ_TIMEOUT = 8, "no data token within the read timeout"
    READ_TOKEN = 9, "the card sends a data error token"
    READ_CRC = 10, "the data block's CRC16 is wrong"
    WRITE_REJECTED = 11, "the card rejects the written block"
    WRITE_TIMEOUT = 12, "the card stays busy after a write (write timeout)"
    RANGE = 13, "the sector lies outside the window or the card's address space"


# ---- CRCs -------------------------------------------------------------------------

CRC7_POLY = 0x09        # x^7 + x^3 + 1 (the x^7 term implied)
CRC16_POLY = 0x1021     # x^16 + x^12 + x^5 + 1


def crc_step(crc, bits, poly, width):
    """Shift ``bits`` (MSB first) through the CRC register ``crc`` of ``width`` bits.

    Works on Python ints (``bits`` = (value, count)) and on Amaranth values (``bits``
    a Value, its top bit first), so the model, the host and the tests compute the same
    thing from one description.
    """
    if isinstance(crc, int):
        value, count = bits
        for i in reversed(range(count)):
            feedback = ((crc >> (width - 1)) ^ (value >> i)) & 1
            crc = (crc << 1) & ((1 << width) - 1)
            if feedback:
                crc ^= poly
        return crc
    # Hardware: every result bit is the XOR of some input bits (a CRC is linear).  Run
    # the shifts on sets of inputs (bit masks over Cat(crc, bits)) and build one XOR per
    # result bit, instead of nesting one expression per shift.
    inputs = Cat(crc, bits)
    state = [1 << k for k in range(width)]
    for i in reversed(range(len(bits))):
        feedback = state[width - 1] ^ (1 << (width + i))
        state = [(state[k - 1] if k else 0) ^ (feedback if (poly >> k) & 1 else 0)
                 for k in range(width)]
    return Cat(*[_xor_of(inputs, mask) for mask in state])


def _xor_of(inputs, mask):
    terms = [inputs[j] for j in range(len(inputs)) if (mask >> j) & 1]
    out = C(0, 1)
    for t in terms:
        out = out ^ t
    return out


def crc7(data):
    """CRC7 of ``data`` (bytes), as a command's last byte carries it (shifted left 1)."""
    crc = 0
    for byte in data:
        crc = crc_step(crc, (byte, 8), CRC7_POLY, 7)
    return crc


def crc16(data):
    """CRC16-CCITT of a data block (bytes), sent after it high byte first."""
    crc = 0
    for byte in data:
        crc = crc_step(crc, (byte, 8), CRC16_POLY, 16)
    return crc


def command_frame(index, arg):
    """The 6 bytes of a command, CRC included."""
    head = bytes([0x40 | index]) + arg.to_bytes(4, "big")
    return head + bytes([(crc7(head) << 1) | 1])
