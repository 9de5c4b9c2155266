package dev.easel.core.train.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.easel.api.tensor.DType;
import dev.easel.core.format.pytorch.TorchCheckpointWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the object tree a training method hands to {@code TrainingExport.torchSave} (maps, lists, scalars and
 * {@link NDArray}s) into the tree the torch writer pickles, copying each array's bytes out of native memory once.
 */
public final class TorchTrees {
    private static final Map<DataType, DType> TYPES = Map.of(DataType.FLOAT64, DType.F64, DataType.FLOAT32, DType.F32,
            DataType.FLOAT16, DType.F16, DataType.BFLOAT16, DType.BF16, DataType.INT64, DType.I64, DataType.INT32,
            DType.I32, DataType.INT8, DType.I8, DataType.UINT8, DType.U8, DataType.BOOLEAN, DType.BOOL);

    private TorchTrees() {
    }

    /**
     * The tree with every {@link NDArray} replaced by a {@link TorchCheckpointWriter.Tensor} (one per distinct array,
     * so the same array twice shares a storage, as in torch).
     *
     * @throws IllegalArgumentException naming the first value torch's safe loaders could not read back
     */
    public static Object fromArrays(Object root) {
        return convert(root, new IdentityHashMap<>(), 0);
    }

    private static Object convert(Object node, Map<NDArray, TorchCheckpointWriter.Tensor> seen, int depth) {
        if (depth > 64) {
            throw new IllegalArgumentException("the object tree is nested more than 64 levels (a cycle?)");
        }
        if (node instanceof NDArray a) {
            return seen.computeIfAbsent(a, TorchTrees::tensor);
        }
        if (node instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                Object k = e.getKey();
                if (!(k instanceof String || k instanceof Integer || k instanceof Long)) {
                    throw new IllegalArgumentException("dict keys must be strings or integers, not " + k);
                }
                out.put(k, convert(e.getValue(), seen, depth + 1));
            }
            return out;
        }
        if (node instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            for (Object x : l) {
                out.add(convert(x, seen, depth + 1));
            }
            return out;
        }
        if (node == null || node instanceof String || node instanceof Integer || node instanceof Long
                || node instanceof Float || node instanceof Double || node instanceof Boolean) {
            return node;
        }
        throw new IllegalArgumentException("cannot save a " + node.getClass().getName() + " in a torch file");
    }

    private static TorchCheckpointWriter.Tensor tensor(NDArray a) {
        DType dtype = TYPES.get(a.getDataType());
        if (dtype == null) {
            throw new IllegalArgumentException("cannot save an array of " + a.getDataType() + " in a torch file");
        }
        ByteBuffer native0 = a.toByteBuffer(true).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer copy = ByteBuffer.allocate(native0.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        copy.put(native0).flip();
        return new TorchCheckpointWriter.Tensor(dtype, a.getShape().getShape(), copy);
    }
}
