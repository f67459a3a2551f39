"""The built-in questionnaire of the public's sense of security and satisfaction
(群众安全感满意度调查问卷), and the built-in definitions (口径) of its indices.

The questions are the ones seed 003 reports figures for: the sense of security (安全感指数),
satisfaction with public-security work and with the local station, awareness of and
satisfaction with the campaign against organised crime (扫黑除恶), satisfaction with traffic
management, participation in community safety work (群防群治), the problems people see most, and
a suggestion. A bureau makes its own editable copy; the copy's versions are its own.

Scales run from the best answer to the worst; "不清楚" (cannot say) is offered where a citizen may
honestly not know, and is outside the base of every built-in index.
"""

from __future__ import annotations

from typing import Any

TEMPLATE_CODE = "standard-2026"
TEMPLATE_NAME = "群众安全感满意度调查问卷"

SECURITY = ["很安全", "安全", "基本安全", "不太安全", "不安全"]
SATISFACTION = ["满意", "基本满意", "不满意", "不清楚"]
PROBLEMS = ["盗窃", "电信网络诈骗", "抢劫抢夺", "邻里纠纷", "交通秩序", "黄赌毒", "噪音扰民",
            "其他"]

QUESTIONS: list[dict[str, Any]] = [
    {"code": "security", "kind": "scale", "text": "您觉得您所在的乡镇（街道）治安状况安全吗？",
     "options": SECURITY},
    {"code": "sat_police", "kind": "scale", "text": "您对本县（区）公安机关的工作满意吗？",
     "options": SATISFACTION},
    {"code": "sat_station", "kind": "scale", "text": "您对辖区派出所的工作满意吗？",
     "options": SATISFACTION},
    {"code": "antigang_aware", "kind": "single",
     "text": "您是否知道公安机关正在开展常态化扫黑除恶斗争？", "options": ["知道", "不知道"]},
    {"code": "antigang_sat", "kind": "scale", "text": "您对扫黑除恶斗争的成效满意吗？",
     "options": SATISFACTION, "show_if": {"question": "antigang_aware", "in": ["知道"]}},
    {"code": "sat_traffic", "kind": "scale", "text": "您对本地道路交通管理工作满意吗？",
     "options": SATISFACTION},
    {"code": "participation", "kind": "single",
     "text": "近一年您是否参加过群防群治、平安志愿者等社区治安活动？",
     "options": ["经常参加", "偶尔参加", "从未参加"]},
    {"code": "police_rating", "kind": "rating",
     "text": "请您为辖区民警的服务打分（0 分最低，10 分最高）", "options": [], "required": False},
    {"code": "problems", "kind": "multiple",
     "text": "您认为当前身边最突出的治安问题是什么？（最多选三项）", "options": PROBLEMS,
     "max_choices": 3, "required": False},
    {"code": "suggestion", "kind": "text", "text": "您对公安工作还有什么意见和建议？",
     "options": [], "required": False},
]

# The built-in definitions (口径). The first version of each is what seed 003's figures are:
# the share of the answers in the top categories among those who gave an opinion.
INDEX_DEFINITIONS: list[dict[str, Any]] = [
    {"code": "security", "version": 1, "name": "安全感指数", "question_code": "security",
     "rule": {"kind": "top_share", "top": ["很安全", "安全", "基本安全"], "excluded": ["不清楚"]},
     "note": "很安全、安全、基本安全三项之和占全部有效回答的比例"},
    {"code": "security", "version": 2, "name": "安全感指数（基本安全计半）",
     "question_code": "security",
     "rule": {"kind": "half_middle", "top": ["很安全", "安全"], "middle": ["基本安全"],
              "excluded": ["不清楚"]},
     "note": "很安全、安全计 1，基本安全计 0.5"},
    {"code": "security-score", "version": 1, "name": "安全感得分", "question_code": "security",
     "rule": {"kind": "category_scores",
              "scores": {"很安全": 100, "安全": 80, "基本安全": 60, "不太安全": 30, "不安全": 0},
              "excluded": ["不清楚"]},
     "note": "很安全 100、安全 80、基本安全 60、不太安全 30、不安全 0 分的平均分"},
    {"code": "sat-police", "version": 1, "name": "公安工作满意度", "question_code": "sat_police",
     "rule": {"kind": "top_share", "top": ["满意", "基本满意"], "excluded": ["不清楚"]},
     "note": "满意、基本满意之和占有效回答的比例"},
    {"code": "sat-police", "version": 2, "name": "公安工作满意度（基本满意计半）",
     "question_code": "sat_police",
     "rule": {"kind": "half_middle", "top": ["满意"], "middle": ["基本满意"],
              "excluded": ["不清楚"]},
     "note": "满意计 1，基本满意计 0.5"},
    {"code": "sat-station", "version": 1, "name": "派出所工作满意度",
     "question_code": "sat_station",
     "rule": {"kind": "top_share", "top": ["满意", "基本满意"], "excluded": ["不清楚"]},
     "note": "满意、基本满意之和占有效回答的比例"},
    {"code": "antigang-aware", "version": 1, "name": "扫黑除恶知晓率",
     "question_code": "antigang_aware",
     "rule": {"kind": "top_share", "top": ["知道"]}, "note": "回答“知道”的比例"},
    {"code": "antigang-sat", "version": 1, "name": "扫黑除恶满意度",
     "question_code": "antigang_sat",
     "rule": {"kind": "top_share", "top": ["满意", "基本满意"], "excluded": ["不清楚"]},
     "note": "知晓者中满意、基本满意之和的比例"},
    {"code": "sat-traffic", "version": 1, "name": "交通管理满意度", "question_code": "sat_traffic",
     "rule": {"kind": "top_share", "top": ["满意", "基本满意"], "excluded": ["不清楚"]},
     "note": "满意、基本满意之和占有效回答的比例"},
    {"code": "participation", "version": 1, "name": "群防群治参与率",
     "question_code": "participation",
     "rule": {"kind": "top_share", "top": ["经常参加", "偶尔参加"]},
     "note": "经常或偶尔参加的比例"},
    {"code": "police-rating", "version": 1, "name": "民警服务好评率（7 分及以上）",
     "question_code": "police_rating", "rule": {"kind": "cutoff", "cutoff": 7},
     "note": "0–10 打分中 7 分及以上的比例"},
]
