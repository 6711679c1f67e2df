"""SDR SDRAM: the controller (controller.py), a behavioural chip model for simulation
(model.py), the pins (pins.py) and the chip's parameters (chip.py)."""
