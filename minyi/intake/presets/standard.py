"""`standard`: Minyi's import template, and the usual headers of a 12345 platform's export.

Each field accepts several header spellings; a file needs only those it has (the required ones:
接单时间, 标题, 渠道, 工单类型, 诉求类型).
"""

from minyi.intake.presets.base import Preset

COLUMNS = {
    "external_id": ["来源编号", "工单编号", "工单号"],
    "channel": ["渠道", "来源渠道", "受理渠道"],
    "order_type": ["工单类型", "业务类型"],
    "demand_kind": ["诉求类型", "诉求性质"],
    "title": ["标题", "诉求标题", "工单标题"],
    "content": ["诉求内容", "内容", "来电内容"],
    "citizen_name": ["群众姓名", "姓名", "来电人"],
    "citizen_phone": ["联系电话", "电话", "来电号码"],
    "citizen_address": ["群众住址", "住址"],
    "area": ["所属区域", "区域", "乡镇街道"],
    "location": ["事发地址", "地址", "事发地点"],
    "received_at": ["接单时间", "受理时间", "来电时间"],
    "lead_unit": ["承办单位", "责任单位", "主办单位"],
    "dispatched_at": ["转办时间", "派单时间"],
    "contact_due_at": ["联系时限"],
    "handling_due_at": ["办理时限", "办结时限"],
    "handled_at": ["办理完成时间"],
    "closed_at": ["办结时间"],
    "state": ["办理状态", "状态"],
    "close_note": ["办结说明", "办理结果"],
}

# The header of the template the import page offers for download: the first spelling of each.
TEMPLATE_HEADER = [names[0] for names in COLUMNS.values()]

STANDARD = Preset(
    name="standard",
    label="通用格式（民意导入模板 / 12345 导出表）",
    description="中文表头：来源编号、渠道、工单类型、诉求类型、标题、诉求内容、群众姓名、联系电话、"
                "所属区域、事发地址、接单时间、承办单位、办理时限、办结时间、办理状态等；"
                "文件中没有的列不导入。",
    spec={"columns": COLUMNS, "missing_columns": "ignore"},
)
