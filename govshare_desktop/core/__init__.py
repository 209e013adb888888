"""Qt-free core: domain rules, the store and services. Nothing below here imports Qt."""
