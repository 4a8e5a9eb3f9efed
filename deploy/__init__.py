"""Deployment files (local stack pom and configs, production compose).

Shipped inside the wheel as ``nengtan.deploy`` so that ``nengtan stack`` finds its Maven pom
when installed without the repository.
"""
