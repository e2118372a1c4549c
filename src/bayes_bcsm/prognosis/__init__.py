"""Out-of-sample prognostic performance: repeated K-fold cross-validation of predictors
(scores, Cox models, the paper's selection procedure, Bayesian models) scored with the
frequentist layer's metrics (C-indices, time-dependent AUC, Brier scores, calibration).

:mod:`.folds`, :mod:`.predictors` and :mod:`.evaluate` import no PyMC; the Bayesian predictor
(:mod:`.bayes_predictor`) does.
"""
