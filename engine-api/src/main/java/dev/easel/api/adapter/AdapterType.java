package dev.easel.api.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.api.EaselPlugin;
import dev.easel.api.ParameterValues;
import dev.easel.api.model.NetworkModule;
import dev.easel.api.tensor.TensorInfo;
import java.util.Map;
import java.util.Optional;

/**
 * One LoRA-family adapter variant: recognises its tensors in a file, computes the weight delta exactly as the
 * reference implementation does, and supplies the trainable forward wrapper.
 *
 * <p>The engine groups an adapter file's keys by module prefix and asks every installed adapter type to
 * {@link #recognize} each group; a group no type recognises is reported by name, never dropped. Where two tools
 * disagree on semantics, the variant is a separate id or a parameter, never a silent guess.
 */
public interface AdapterType extends EaselPlugin {
    /**
     * Whether the tensors of one module are of this type.
     *
     * @param prefix  the module's key prefix in the file
     * @param tensors the module's tensors keyed by the suffix after {@code prefix + "."}
     */
    Optional<AdapterModule> recognize(String prefix, Map<String, TensorInfo> tensors);

    /**
     * The weight delta of one module at strength 1, shaped like {@code baseWeight}, in float32.
     *
     * @param module     what {@link #recognize} returned
     * @param tensors    the module's tensors as float32 arrays, keyed by suffix
     * @param baseWeight the frozen weight being adapted (needed by DoRA, IA3 and OFT; others ignore it)
     * @param manager    where to create results and temporaries
     */
    NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, NDManager manager);

    /**
     * The weight delta of one module at a given strength, with this type's parameters, shaped like
     * {@code baseWeight}, in float32: what {@code W' = W + delta} bakes in. Additive types scale the strength-1
     * delta linearly (the default); DoRA, OFT, BOFT and IA3 override this because the tools they follow apply the
     * strength inside the construction, not to the result.
     *
     * @param strength   the user multiplier {@code m}
     * @param parameters validated against {@link #parameters()}
     * @since 0.10.0
     */
    default NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, double strength,
                          ParameterValues parameters, NDManager manager) {
        NDArray d = delta(module, tensors, baseWeight, manager);
        return strength == 1.0 ? d : d.muli((float) strength);
    }

    /**
     * The bias delta of one module at a given strength, or {@code null} when the type leaves the bias alone (all
     * low-rank types; {@code diff_b} of full, {@code b_norm} of norm and A1111's optional {@code bias} key change it).
     *
     * @param baseBias the frozen bias, or {@code null} when the module has none
     * @since 0.10.0
     */
    default NDArray biasDelta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseBias, double strength,
                              ParameterValues parameters, NDManager manager) {
        return null;
    }

    /**
     * For types whose delta is a product of two factors, those factors in float32: {@code [up, down]} with
     * {@code up} of shape {@code out×r} carrying the scale and the strength, and {@code down} of shape
     * {@code r×(in·kh·kw)}, so that {@code delta = (up·down)} reshaped to the weight. Lets the engine apply the
     * delta in row blocks fused with its type conversions instead of materialising the whole matrix. {@code null}
     * (the default) when the delta is not such a product.
     *
     * @since 0.10.0
     */
    default NDArray[] lowRankFactors(AdapterModule module, Map<String, NDArray> tensors, double strength,
                                     ParameterValues parameters, NDManager manager) {
        return null;
    }

    /**
     * Whether {@link #biasDelta} can return a delta for this module, so that the engine reads and rewrites a bias
     * only when something changes it. Types that override {@code biasDelta} override this too.
     *
     * @since 0.10.0
     */
    default boolean changesBias(AdapterModule module) {
        return false;
    }

    /**
     * A fresh trainable adapter for one module, initialised so that it changes nothing.
     *
     * @param target     the module to wrap
     * @param parameters validated against {@link #parameters()} (rank, alpha, dropout, ...)
     * @param manager    owns the adapter's arrays for the job
     * @param seed       the seed for this module's initialisation
     * @throws UnsupportedOperationException for read-only types
     */
    default TrainableAdapter createTrainable(NetworkModule target, ParameterValues parameters, NDManager manager,
                                             long seed) {
        throw new UnsupportedOperationException(descriptor().id() + " cannot be trained");
    }
}
