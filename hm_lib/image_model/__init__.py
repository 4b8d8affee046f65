"""End-to-end image relevance model (after Elsayed, Brinkmeyer and Schmidt-Thieme, 2022), Keras 3.

Item tower: ResNet50 backbone (frozen head, cached once per article; trainable tail) -> pooling ->
Dense(150, relu) calibration, with article id and attribute embeddings -> Dense(k). Customer tower:
customer and attribute embeddings. Score: dot product plus biases, trained with binary cross-entropy
on labelled pairs (hm_lib.negatives). See :func:`run_image_stage` for the whole stage.

The names below are imported on first use (hm_lib.lazy): the settings, tables and feature cache need
no Keras.
"""
from hm_lib.lazy import lazy_exports

_EXPORTS = {
    **dict.fromkeys(("BackboneSplit", "WeightsChoice", "build_backbone", "resolve_weights", "split_backbone"),
                    "backbone"),
    "FeatureTable": "cache", "PairBatches": "data",
    **dict.fromkeys(("EvalSet", "ranking_metrics", "sample_eval_set"), "evaluate"),
    **dict.fromkeys(("ArticleFeatures", "photo_features"), "features"),
    **dict.fromkeys(("ImageSource", "placeholder_counts"), "images"),
    "RelevanceModel": "model",
    **dict.fromkeys(("load_model", "save_model"), "persist"),
    **dict.fromkeys(("plot_neighbour_grid", "plot_slice_ablation", "plot_training_curves"), "plots"),
    "linear_probe": "probe",
    **dict.fromkeys(("ImageRelevanceModel", "image_embedding_frame", "score_pairs"), "scoring"),
    **dict.fromkeys(("VARIANTS", "ImageModelSettings"), "settings"),
    **dict.fromkeys(("ImageStageResult", "run_image_stage"), "stage"),
    **dict.fromkeys(("ModelTables", "model_tables"), "tables"),
    **dict.fromkeys(("FitResult", "build_model", "train_variant"), "train"),
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
