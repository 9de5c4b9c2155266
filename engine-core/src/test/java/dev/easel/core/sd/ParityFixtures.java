package dev.easel.core.sd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.core.format.safetensors.SafetensorsReader;
import dev.easel.core.runtime.ComputeRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/** The tiny-sd1 parity model and vectors (copied from the reference data into the test resources). */
public final class ParityFixtures {
    private static ComputeRuntime runtime;

    private ParityFixtures() {
    }

    public static synchronized ComputeRuntime runtime() {
        if (runtime == null) {
            runtime = new ComputeRuntime().start();
        }
        return runtime;
    }

    public static Path resource(String name) {
        try {
            return Path.of(ParityFixtures.class.getResource("/parity/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Path model() {
        return resource("tiny-sd1.safetensors");
    }

    public static Path config() {
        return resource("tiny-sd1.json");
    }

    /** One tensor of a safetensors file as an NDArray (F32 or I64). */
    public static NDArray read(SafetensorsReader r, String name, NDManager m) {
        try {
            TensorInfo info = r.info(name).orElseThrow();
            ByteBuffer b = r.read(name);
            ByteBuffer copy = ByteBuffer.allocateDirect(b.remaining()).order(ByteOrder.nativeOrder());
            copy.put(b.duplicate().order(ByteOrder.LITTLE_ENDIAN)).flip();
            DataType t = info.dtype() == DType.I64 ? DataType.INT64 : DataType.FLOAT32;
            NDArray raw = m.create(copy, new Shape(info.shape()), t);
            NDArray owned = raw.duplicate();
            raw.close();
            return owned;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Largest absolute difference. */
    public static double maxAbsDiff(NDArray a, NDArray b) {
        if (!a.getShape().equals(b.getShape())) {
            throw new AssertionError("shape " + a.getShape() + " != " + b.getShape());
        }
        return a.sub(b).abs().max().getFloat();
    }
}
