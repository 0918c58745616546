// Placeholder module init; the real implementation is being written.
#include <napi.h>
static Napi::Object Init(Napi::Env env, Napi::Object exports) { return exports; }
NODE_API_MODULE(metallb_packet, Init)
