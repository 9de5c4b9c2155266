/**
 * The {@link dev.easel.api.adapter.AdapterType} SPI: one LoRA-family variant (kohya LoRA/LoCon, LyCORIS LoHa,
 * LoKr, IA3, DoRA, OFT, BOFT, GLoRA, full, peft) per implementation, each under its own id, so that incompatible
 * conventions of "the same" adapter live side by side instead of being guessed.
 *
 * <p>Version 0.x: see {@link dev.easel.api.model}. 0.10.0 added the strength- and parameter-aware
 * {@link dev.easel.api.adapter.AdapterType#delta(AdapterModule, java.util.Map, ai.djl.ndarray.NDArray, double,
 * dev.easel.api.ParameterValues, ai.djl.ndarray.NDManager) delta} and
 * {@link dev.easel.api.adapter.AdapterType#biasDelta biasDelta} with
 * {@link dev.easel.api.adapter.AdapterType#changesBias changesBias}, and
 * {@link dev.easel.api.adapter.AdapterType#lowRankFactors lowRankFactors}.
 */
@Export
@Version("0.10.0")
package dev.easel.api.adapter;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
