"""carseg-gui: segment cars in photos with a U-Net, from a desktop app or the `carseg` CLI."""

__version__ = "0.1.0"
