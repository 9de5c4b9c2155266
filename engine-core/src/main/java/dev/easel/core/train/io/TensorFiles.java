package dev.easel.core.train.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.format.safetensors.SafetensorsReader;
import dev.easel.core.format.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * float32 (and float64) tensor files of the training engine (state folders, latent cache): safetensors written atomically and
 * read back exactly, so a resumed run continues from bit-identical tensors.
 */
public final class TensorFiles {
    private TensorFiles() {
    }

    /** Writes the tensors (float64 kept, everything else as float32) and metadata atomically. */
    public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata)
            throws IOException {
        List<TensorInfo> infos = new ArrayList<>();
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            infos.add(new TensorInfo(e.getKey(), e.getValue().getDataType() == DataType.FLOAT64 ? DType.F64
                    : DType.F32, e.getValue().getShape().getShape()));
        }
        try (SafetensorsWriter w = SafetensorsWriter.create(file, new WritePlan(infos, metadata))) {
            for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
                NDArray a = e.getValue();
                NDArray f = a.getDataType() == DataType.FLOAT32 || a.getDataType() == DataType.FLOAT64 ? a
                        : a.toType(DataType.FLOAT32, false);
                w.write(e.getKey(), f.toByteBuffer(true).order(ByteOrder.LITTLE_ENDIAN));
                if (f != a) {
                    f.close();
                }
            }
            w.commit();
        }
    }

    /** Reads every tensor of a file written by {@link #write} into {@code manager}, in file order. */
    public static Map<String, NDArray> read(Path file, NDManager manager) throws IOException {
        Map<String, NDArray> out = new LinkedHashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            for (TensorInfo info : r.tensors()) {
                if (info.dtype() != DType.F32 && info.dtype() != DType.F64) {
                    throw new IOException(file + ": tensor '" + info.name() + "' is " + info.dtype()
                            + ", not F32 or F64");
                }
                DataType type = info.dtype() == DType.F64 ? DataType.FLOAT64 : DataType.FLOAT32;
                ByteBuffer data = r.read(info.name()).slice().order(ByteOrder.LITTLE_ENDIAN);
                ByteBuffer direct = manager.allocateDirect(data.remaining());
                direct.put(data);
                direct.flip();
                out.put(info.name(), manager.create(direct, new Shape(info.shape()), type).duplicate());
            }
        }
        return out;
    }

    /** The metadata of a file. */
    public static Map<String, String> metadata(Path file) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            return r.metadata();
        }
    }
}
