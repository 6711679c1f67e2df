"""The RV64IMA core: Zicsr, Zifencei, machine/supervisor/user modes."""
