# The R calls behind r_survival_lung.md, written out from its section headings so they can be
# rerun (R >= 4 with the recommended package `survival`). R is not needed to run the tests: the
# figures they use are committed in r_survival_lung.md. Figures marked [calc] there were computed
# with an independent implementation and agree with R wherever R prints them; they do not come
# from these calls.
library(survival)
# lung: 228 rows, status 1 = censored, 2 = dead (lifelines' load_lung() codes it 0/1)

# coxph, ties = "efron" (R's default) and "breslow"
coxph(Surv(time, status) ~ age + sex, data = lung)
coxph(Surv(time, status) ~ age + sex, data = lung, ties = "breslow")
coxph(Surv(time, status) ~ age + sex + ph.ecog, data = lung)
coxph(Surv(time, status) ~ age + sex + ph.ecog, data = lung, ties = "breslow")

# proportional-hazards test
cox.zph(coxph(Surv(time, status) ~ age + sex, data = lung), transform = "km")

# log-rank and Peto-Peto
survdiff(Surv(time, status) ~ sex, data = lung)
survdiff(Surv(time, status) ~ sex, data = lung, rho = 1)
survdiff(Surv(time, status) ~ ph.ecog, data = lung)

# Kaplan-Meier medians (conf.type = "log" is the default) and the restricted mean
survfit(Surv(time, status) ~ 1, data = lung)
survfit(Surv(time, status) ~ sex, data = lung)
survfit(Surv(time, status) ~ sex, data = lung, conf.type = "log-log")
survfit(Surv(time, status) ~ ph.ecog, data = lung)
print(survfit(Surv(time, status) ~ 1, data = lung), rmean = 500)

# parametric fits
survreg(Surv(time, status) ~ age + sex, data = lung, dist = "weibull")
survreg(Surv(time, status) ~ 1, data = lung, dist = "weibull")
survreg(Surv(time, status) ~ 1, data = lung, dist = "exponential")

# small exact checks
summary(survfit(Surv(c(3, 1, 2, 3, 2, 1, 5, 3), c(0, 1, 1, 1, 0, 0, 1, 0)) ~ 1))
group <- c(1, 1, 1, 0, 0, 0)
survdiff(Surv(c(10, 20, 30, 10, 20, 50), rep(1, 6)) ~ group)
survdiff(Surv(c(10, 20, 30, 10, 20, 50), c(1, 0, 1, 1, 0, 1)) ~ group)
