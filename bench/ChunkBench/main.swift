print("chunk-bench")
