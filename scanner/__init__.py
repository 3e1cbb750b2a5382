"""rdscan: audit an Alibaba Cloud Resource Directory for members without a secure mobile phone."""

__version__ = "0.1.0"
