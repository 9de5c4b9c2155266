/**
 * The {@link dev.easel.api.adapter.AdapterType} SPI: one LoRA-family variant (kohya LoRA/LoCon, LyCORIS LoHa,
 * LoKr, IA3, DoRA, OFT, BOFT, GLoRA, full, peft) per implementation, each under its own id, so that incompatible
 * conventions of "the same" adapter live side by side instead of being guessed.
 *
 * <p>Version 0.x: see {@link dev.easel.api.model}.
 */
@Export
@Version("0.9.0")
package dev.easel.api.adapter;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
