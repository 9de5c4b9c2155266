package dev.easel.api.tensor;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Everything a streaming writer must know before the first byte of tensor data: every tensor's name, type and
 * shape, and the metadata. Formats whose header holds offsets (safetensors) write the header first from this
 * plan, then take the data tensor by tensor.
 *
 * @param tensors  the tensors to be written; names are unique
 * @param metadata string metadata (safetensors {@code __metadata__}; kohya {@code ss_*} keys)
 */
public record WritePlan(List<TensorInfo> tensors, Map<String, String> metadata) {
    public WritePlan {
        tensors = List.copyOf(Objects.requireNonNull(tensors, "tensors is null"));
        metadata = Map.copyOf(Objects.requireNonNull(metadata, "metadata is null"));
        Set<String> seen = new HashSet<>();
        for (TensorInfo t : tensors) {
            if (!seen.add(t.name())) {
                throw new IllegalArgumentException("tensor '" + t.name() + "' planned twice");
            }
        }
    }
}
