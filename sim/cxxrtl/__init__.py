"""The CXXRTL engine's build pipeline (build.py) and C++ driver (driver.cc)."""
