"""The Faust app: counters to consumption, rates integrated, factors applied in rolling windows,
CEMS hourly values, alert rules, and the output topics.
"""
