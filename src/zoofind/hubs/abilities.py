"""The one list of abilities a hub may register (``hubs.protocol`` says what each must do).

A leaf: the registry checks every registration against it on each start-up, which must not
pay for defining the protocol classes.
"""

#: Every ability a source may register, with what the refusal says a source without it
#: cannot do ("<title> models cannot <this>").
ABILITIES: dict[str, str] = {
    "search": "be searched",
    "pull": "be pulled yet",
    "lock": "be locked yet",
    "bundle": "be exported or imported yet",
    "cache": "be listed in the cache yet",
    "cite": "have their cards read for citations yet",
}
