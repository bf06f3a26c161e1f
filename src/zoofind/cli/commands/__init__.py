"""One module per command, each a thin layer: parse the options, call the library
(``zoofind.ops``), hand the typed result to ``cli.render``. ``cli.app`` imports only the
module of the command being run."""
