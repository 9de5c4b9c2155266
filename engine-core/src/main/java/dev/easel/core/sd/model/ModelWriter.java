package dev.easel.core.sd.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.format.AtomicOutputFile;
import dev.easel.core.format.safetensors.SafetensorsWriter;
import dev.easel.core.sd.nn.Layer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a loaded (possibly trained) {@link SdModel} as a single-file ldm checkpoint: every network weight under its
 * ldm key, plus the text encoder's {@code position_ids} buffer that SD1 checkpoints carry, atomically.
 */
public final class ModelWriter {
    private ModelWriter() {
    }

    /**
     * Writes {@code model} to {@code out} with float weights stored as {@code dtype} (F32, F16 or BF16).
     *
     * @param config the config file's bytes to write beside it as {@code NAME.json}, or null
     */
    public static void write(SdModel model, Path out, DType dtype, Map<String, String> metadata, byte[] config)
            throws IOException {
        DataType djl = switch (dtype) {
            case F32 -> DataType.FLOAT32;
            case F16 -> DataType.FLOAT16;
            case BF16 -> DataType.BFLOAT16;
            default -> throw new IllegalArgumentException("weights are stored as F32, F16 or BF16, not " + dtype);
        };
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        for (Layer l : model.allLayers()) {
            tensors.put(l.ldmName() + ".weight", l.weight());
            if (l.bias() != null) {
                tensors.put(l.ldmName() + ".bias", l.bias());
            }
        }
        List<TensorInfo> infos = new ArrayList<>();
        for (var e : tensors.entrySet()) {
            infos.add(new TensorInfo(e.getKey(), dtype, e.getValue().getShape().getShape()));
        }
        TextEncoderConfig text = model.config().text();
        String positions = text.prefix() + "embeddings.position_ids";
        if (!text.openClip()) {
            infos.add(new TensorInfo(positions, DType.I64, new long[] {1, text.maxPositions()}));
        }
        if (config != null) {
            String n = out.getFileName().toString();
            int dot = n.lastIndexOf('.');
            Path beside = out.resolveSibling((dot > 0 ? n.substring(0, dot) : n) + ".json");
            try (AtomicOutputFile f = AtomicOutputFile.create(beside)) {
                f.channel().write(ByteBuffer.wrap(config));
                f.commit();
            }
        }
        try (SafetensorsWriter w = SafetensorsWriter.create(out, new WritePlan(infos, Map.copyOf(metadata)))) {
            for (var e : tensors.entrySet()) {
                try (NDArray cast = e.getValue().toType(djl, true)) {
                    ByteBuffer b = cast.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                    ByteBuffer copy = ByteBuffer.allocate(b.remaining()).order(ByteOrder.LITTLE_ENDIAN);
                    copy.put(b).flip();
                    w.write(e.getKey(), copy);
                }
            }
            if (!text.openClip()) {
                ByteBuffer ids = ByteBuffer.allocate(8 * text.maxPositions()).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < text.maxPositions(); i++) {
                    ids.putLong(i);
                }
                w.write(positions, ids.flip());
            }
            w.commit();
        }
    }
}
