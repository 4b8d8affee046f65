"""The synthetic H&M world: the project's embedded default data, with a planted ground truth."""
from hm_lib.synthetic.generate import GenerateReport, generate
from hm_lib.synthetic.knobs import SCALES, Knobs
from hm_lib.synthetic.truth import load_truth, oracle_last_week_map, oracle_predictions, target_week

__all__ = ["SCALES", "GenerateReport", "Knobs", "generate", "load_truth", "oracle_last_week_map", "oracle_predictions", "target_week"]
