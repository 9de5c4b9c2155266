package dev.easel.core.merge;

import dev.easel.api.ParameterValues;
import dev.easel.api.merge.MergeAlgorithm;
import dev.easel.core.plugin.PluginLease;
import java.util.List;
import java.util.Map;

/**
 * A merge node after planning: its leased algorithm, its validated parameters (one set per block when block
 * weights were given) and its inputs, each either a model index ({@link Integer}) or another compiled merge.
 */
final class CompiledMerge {
    final int index;
    final String method;
    final PluginLease<MergeAlgorithm> lease;
    final ParameterValues parameters;
    final Map<String, ParameterValues> byBlock;
    final List<Object> inputs;

    CompiledMerge(int index, String method, PluginLease<MergeAlgorithm> lease, ParameterValues parameters,
                  Map<String, ParameterValues> byBlock, List<Object> inputs) {
        this.index = index;
        this.method = method;
        this.lease = lease;
        this.parameters = parameters;
        this.byBlock = byBlock;
        this.inputs = inputs;
    }

    MergeAlgorithm algorithm() {
        return lease.get();
    }

    /** The parameters for a key of this block. */
    ParameterValues parametersFor(String block) {
        ParameterValues v = byBlock.get(block);
        return v != null ? v : parameters;
    }

    /** The id users see in messages. */
    String label() {
        return lease.record().id();
    }
}
