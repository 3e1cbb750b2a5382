"""The client stage: everything that talks to Alibaba Cloud.

``sdk`` (the only module that imports the Alibaba Cloud SDKs: ``RdClient``, credentials, SDK
error mapping), ``model`` (the phone values it hands out: ``AccountPhone``, ``SentCode``),
``ratelimit`` (token buckets and backoff, pure), ``settings`` (connection
settings: site, endpoint, protocol, profile, role), ``ram_policy`` (the RAM policy documents a
caller needs). Importing this package imports no SDK; ``sdk`` does, so commands that never call
the cloud never pay for it.
"""
