package dev.easel.plugins.merge.basic;

import ai.djl.ndarray.NDArray;
import dev.easel.api.ParameterSchema;
import dev.easel.api.ParameterSpec;
import dev.easel.api.ParameterValues;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.merge.MergeAlgorithm;
import dev.easel.api.merge.MergeContext;
import java.util.List;

/**
 * Spherical linear interpolation of each whole tensor, treated as one vector. Two variants, named after the tools
 * whose numbers they reproduce:
 * <ul>
 *   <li>{@code sd-mecha} (default): slerp of the unit directions, scaled by the linear interpolation of the two
 *       norms; falls back to a linear interpolation when the directions are parallel (the angle is 0);</li>
 *   <li>{@code mergekit}: the slerp weights applied to the un-normalised tensors, and a linear interpolation when
 *       the absolute cosine exceeds 0.9995.</li>
 * </ul>
 * The tensors stay float32; the scalar angle arithmetic is done in double precision.
 */
public final class SlerpMerge implements MergeAlgorithm {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("slerp/basic", "1.1.0",
            "Spherical interpolation from A (alpha 0) to B (alpha 1), sd-mecha or mergekit variant");
    private static final ParameterSchema PARAMETERS = ParameterSchema.of(
            ParameterSpec.floating("alpha", 0.5, 0.0, 1.0, "Position between A (0) and B (1)").withPerBlock(),
            ParameterSpec.choice("variant", "sd-mecha", List.of("sd-mecha", "mergekit"),
                    "sd-mecha: slerp of directions times lerp of norms; mergekit: slerp weights on the raw tensors"));
    private static final double MERGEKIT_DOT_THRESHOLD = 0.9995;

    @Override
    public PluginDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public ParameterSchema parameters() {
        return PARAMETERS;
    }

    @Override
    public List<String> inputs() {
        return List.of("a", "b");
    }

    @Override
    public NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters) {
        double t = parameters.getDouble("alpha");
        NDArray a = inputs.get(0);
        NDArray b = inputs.get(1);
        if (t == 0.0) {
            return a.duplicate();
        }
        if (t == 1.0) {
            return b.duplicate();
        }
        double normA = a.norm().getFloat();
        double normB = b.norm().getFloat();
        double dot = a.mul(b).sum().getFloat();
        boolean mecha = parameters.getString("variant").equals("sd-mecha");
        double cos = normA > 0 && normB > 0 ? dot / (normA * normB) : Double.NaN;
        if (mecha) {
            double omega = Math.acos(Math.max(-1.0, Math.min(1.0, cos)));
            double sin = Math.sin(omega);
            if (Double.isNaN(cos) || sin == 0.0) {
                return lerp(a, b, t);
            }
            double norm = normA + t * (normB - normA);
            double ca = Math.sin((1 - t) * omega) / sin * norm / normA;
            double cb = Math.sin(t * omega) / sin * norm / normB;
            return combine(a, ca, b, cb);
        }
        if (Double.isNaN(cos) || Math.abs(cos) > MERGEKIT_DOT_THRESHOLD) {
            return lerp(a, b, t);
        }
        double theta = Math.acos(cos);
        double sin = Math.sin(theta);
        return combine(a, Math.sin((1 - t) * theta) / sin, b, Math.sin(t * theta) / sin);
    }

    private static NDArray lerp(NDArray a, NDArray b, double t) {
        return b.sub(a).muli((float) t).addi(a);
    }

    private static NDArray combine(NDArray a, double ca, NDArray b, double cb) {
        NDArray out = a.mul((float) ca);
        NDArray sb = b.mul((float) cb);
        out.addi(sb);
        sb.close();
        return out;
    }
}
