{
  "targets": [
    {
      "target_name": "berth_sendfile",
      "sources": ["sendfile.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "conditions": [["OS!='linux'", { "sources!": ["sendfile.c"], "type": "none" }]]
    },
    {
      "target_name": "berth_aligned",
      "sources": ["aligned.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    },
    {
      "target_name": "berth_sha256",
      "sources": ["sha256.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
