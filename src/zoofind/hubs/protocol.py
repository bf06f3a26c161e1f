"""What a source (a hub) can do: the one place that says it, as llm's ``hookspecs`` does for llm.

A source is registered with its ``SourceSpec`` (what it is: name, id grammar, endpoint;
cheap to import) and, for each ability it has, the factory of the object implementing it::

    registry.register(SPEC, lazy("myhub.source", "MySource"),        # search: every source
                      pull=lazy("myhub.pull", "MyPull"), cache=lazy("myhub.cache", "MyCache"))

The built-ins register exactly so, through the ``zoofind.hubs`` entry points a plugin
package uses. The operations are loops over the sources that have the ability they need
(``registry.able("pull")``, ``registry.ability(name, "pull")``); none names a source.

Each ability's protocol follows, with the typed plans and results it exchanges.
"""

from __future__ import annotations

#: Every ability a source may register, with what the refusal says a source without it
#: cannot do ("<title> models cannot <this>").
ABILITIES: dict[str, str] = {
    "search": "be searched",
    "pull": "be pulled yet",
    "lock": "be locked yet",
    "bundle": "be exported or imported yet",
    "cache": "be listed in the cache yet",
}


# == pull: plan, place (the "pull" helper's section) ==========================================
#
#
#
#
#
#
# == lock: pin, plan from a lock ===============================================================
#
#
#
#
#
#
# == cache: a hub's cache layout per tier ======================================================
#
#
#
#
#
#
# == bundle: export and import placement =======================================================
#
#
#
#
#
#
