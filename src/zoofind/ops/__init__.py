"""The operations, one module (or package) per operation, each a loop over the hubs that
have the ability it needs (``hubs.protocol``); none names a hub.
"""
