import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSource;
import dev.easel.core.format.ModelFormats;
import dev.easel.core.format.diffusers.DiffusersFormat;
import dev.easel.core.format.pytorch.PyTorchFormat;
import dev.easel.core.format.safetensors.SafetensorsFormat;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Times opening a model and listing its tensors in-process (no JVM start-up): the median of 20 opens after 5
 * warm-up ones. Usage: {@code java -cp 'distribution/target/easel/lib/*' bench/OpenList.java FILE}.
 */
public final class OpenList {
    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        var formats = List.of(new SafetensorsFormat(), new PyTorchFormat(), new DiffusersFormat());
        double[] ms = new double[25];
        long params = 0;
        int count = 0;
        for (int i = 0; i < ms.length; i++) {
            long t0 = System.nanoTime();
            try (TensorSource s = ModelFormats.open(formats, file)) {
                params = 0;
                for (TensorInfo t : s.tensors()) {
                    params += t.elementCount();
                }
                count = s.tensors().size();
            }
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        double[] measured = Arrays.copyOfRange(ms, 5, ms.length);
        Arrays.sort(measured);
        System.out.printf("open+list %s: %d tensors, %,d parameters: median %.2f ms (first, cold JIT: %.1f ms)%n",
                file.getFileName(), count, params, measured[measured.length / 2], ms[0]);
    }
}
