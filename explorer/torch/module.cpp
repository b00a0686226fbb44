// The module's one exported entry point: its interface version. Each model file exports its own
// factory (tessera_make_surrogate, tessera_make_controller), found by name.
extern "C" int tessera_torch_models_abi() { return 1; }
